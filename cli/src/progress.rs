//! The progress bar `put` and `get` show on a terminal: bytes of the
//! actual transfer, rate and time left.

use std::io::{self, IsTerminal};

use indicatif::{ProgressBar, ProgressStyle};
use oap_node::Progress;

/// Transfers at least this large get a bar: smaller ones finish before a
/// bar would be readable.
const THRESHOLD: u64 = 8 * 1024 * 1024;

/// A bar for one transfer, drawn only when stderr is a terminal (piped
/// output stays clean) and the object is large enough to watch.
pub(crate) struct TransferBar {
    bar: Option<ProgressBar>,
    what: String,
}

impl TransferBar {
    /// A bar labelled `what`, shown once the transfer's size is known.
    pub(crate) fn new(what: String) -> Self {
        Self { bar: None, what }
    }

    /// Moves the bar to `p` (creating it at the first large report).
    pub(crate) fn update(&mut self, p: Progress) {
        if self.bar.is_none() && p.total >= THRESHOLD && io::stderr().is_terminal() {
            let bar = ProgressBar::new(p.total);
            let style = ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(std::mem::take(&mut self.what));
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_length(p.total);
            bar.set_position(p.bytes);
        }
    }
}

impl Drop for TransferBar {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
