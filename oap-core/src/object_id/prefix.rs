//! Truncated ids for routing.

use std::fmt;
use std::str::FromStr;

use super::{HEX_LEN, ObjectId, ObjectIdError, SCHEME, parse};

/// A truncated object id, `b3:` followed by 1 to 64 lowercase hex digits.
///
/// Good for choosing where to send a request; never for verifying bytes —
/// only a full [`ObjectId`] does that.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectIdPrefix {
    hex: String,
}

impl ObjectIdPrefix {
    /// Whether `id` starts with this prefix.
    pub fn matches(&self, id: &ObjectId) -> bool {
        id.to_hex().starts_with(&self.hex)
    }

    /// Number of hex digits in the prefix.
    pub fn digits(&self) -> usize {
        self.hex.len()
    }

    /// The full id, if this prefix is all 64 digits long.
    pub fn to_full(&self) -> Option<ObjectId> {
        format!("{SCHEME}{}", self.hex).parse().ok()
    }
}

impl FromStr for ObjectIdPrefix {
    type Err = ObjectIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = parse::strip_scheme(s)?;
        if hex.is_empty() || hex.len() > HEX_LEN {
            return Err(ObjectIdError::WrongLength { len: hex.len() });
        }
        parse::decode_hex(hex, &mut [])?;
        Ok(Self {
            hex: hex.to_owned(),
        })
    }
}

impl fmt::Display for ObjectIdPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}", self.hex)
    }
}

impl From<&ObjectId> for ObjectIdPrefix {
    fn from(id: &ObjectId) -> Self {
        Self { hex: id.to_hex() }
    }
}
