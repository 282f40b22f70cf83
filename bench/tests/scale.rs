//! The scale case's reference: a child `oap-bench serve <runtime>
//! --reference <script>` answering with a gateway's recorded bytes, its
//! script on the command line, and the timed run against it.

use oap_bench::churn::client::{self, Replies};
use oap_bench::churn::reference::Script;
use oap_bench::churn::requests::Requests;
use oap_bench::scale::reference::Connection;
use oap_bench::scale::{gateway_run, reference_run};
use oap_bench::{Launcher, RuntimeKind};
use smol::io::{AsyncReadExt, AsyncWriteExt};

/// This package's binary as the child server.
fn launcher() -> Launcher {
    Launcher::new(env!("CARGO_BIN_EXE_oap-bench"), ["serve"])
}

/// A real gateway's answers to a HELLO and to one put, byte for byte.
fn recorded() -> Replies {
    recorded_from(&Requests::new(0..1))
}

/// A real gateway's answers to `requests`' HELLO and first put.
fn recorded_from(requests: &Requests) -> Replies {
    let gateway = launcher().start(RuntimeKind::Tokio).expect("gateway");
    client::record(gateway.addr(), requests, 0).expect("recorded")
}

#[test]
fn the_reference_answers_every_put_of_a_connection_with_the_gateways_bytes() {
    let replies = recorded();
    let requests = Requests::new(1..4);
    let script = Script::new(&requests, replies.clone());
    for kind in RuntimeKind::ALL {
        let reference = launcher()
            .start_reference(kind, &script)
            .expect("reference");
        let io = kind.block_on(async {
            let runtime = kind.runtime();
            // A bare stream rather than `Connection`: these checks must not
            // rest on the client code the bench times.
            let mut stream = runtime.connect(reference.addr()).await?;
            stream.write_all(requests.hello()).await?;
            let mut hello = vec![0; replies.hello.len()];
            stream.read_exact(&mut hello).await?;
            assert_eq!(hello, replies.hello, "{kind}");

            for i in 0..requests.len() {
                let put = requests.put(i).expect("a put");
                // The first put in two writes: the reference waits for all
                // of it and answers once.
                let (head, tail) = put.split_at(if i == 0 { 100 } else { 0 });
                stream.write_all(head).await?;
                stream.flush().await?;
                stream.write_all(tail).await?;
                let mut answer = vec![0; replies.put.len()];
                stream.read_exact(&mut answer).await?;
                assert_eq!(answer, replies.put, "{kind}, put {i}");
            }

            // The client is done: the reference closes its side too, with
            // nothing more to say.
            stream.close().await?;
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest).await?;
            assert!(rest.is_empty(), "{kind}: {rest:?}");
            Ok::<_, std::io::Error>(())
        });
        io.expect("runtime").expect("I/O with the reference");
    }
}

#[test]
fn the_timed_run_against_the_reference_checks_every_answer() {
    let kind = RuntimeKind::Smol;
    // Two rounds of 20 connections.
    let requests = Requests::new(1..41);
    let replies = recorded();
    let measure = reference_run(kind, &launcher(), 20, requests.clone(), replies.clone())
        .expect("every put answered with the recorded bytes");
    assert!(measure.wall > std::time::Duration::ZERO);
    if cfg!(target_os = "linux") {
        // Read from the reference process's /proc entry (maybe 0: the run
        // is shorter than a clock tick).
        assert!(measure.server_cpu.is_some(), "{measure:?}");
    }

    // A client expecting another HELLO answer than the reference gives
    // refuses it.
    let script = Script::new(&requests, replies.clone());
    let reference = launcher()
        .start_reference(kind, &script)
        .expect("reference");
    let mut other = script.clone();
    other.replies.hello[0] ^= 0xff;
    let refused = kind
        .block_on(async {
            let runtime = kind.runtime();
            Connection::open(&*runtime, reference.addr(), requests.hello(), &other).await
        })
        .expect("runtime");
    assert!(refused.is_err());
}

#[test]
fn the_gateway_timed_from_the_references_client_answers_each_put_with_its_own_object() {
    let kind = RuntimeKind::Tokio;
    let recorded = Requests::new(0..1);
    let replies = recorded_from(&recorded);
    let recorded_id = recorded.id(0).expect("an id");
    // Two rounds of 20 connections, against a gateway that has none of
    // the objects yet.
    let requests = Requests::new(1..41);
    let gateway = launcher().start(kind).expect("gateway");
    let measure = gateway_run(kind, &gateway, 20, requests.clone(), &replies, recorded_id)
        .expect("every put answered with an END for its own object");
    assert!(measure.wall > std::time::Duration::ZERO);

    // The reference answers every put with the recorded object's END: the
    // same length, but not the object that was put. The check sees it.
    let script = Script::new(&requests, replies.clone());
    let reference = launcher()
        .start_reference(kind, &script)
        .expect("reference");
    let refused = gateway_run(kind, &reference, 20, requests, &replies, recorded_id);
    assert!(refused.is_err(), "{refused:?}");
}

#[test]
fn a_script_goes_through_the_command_line_unchanged() {
    let script = Script::new(
        &Requests::new(1..2),
        Replies {
            hello: vec![0x01, 0xab, 0x00],
            put: (0..=255).collect(),
        },
    );
    let arg = script.to_string();
    assert!(
        arg.is_ascii() && !arg.contains(char::is_whitespace),
        "{arg}"
    );
    assert_eq!(arg.parse::<Script>(), Ok(script));
    assert_eq!(
        "3:5::ff".parse::<Script>().map(|s| s.replies),
        Ok(Replies {
            hello: vec![],
            put: vec![0xff]
        })
    );
    for bad in [
        "",
        "3:5:00",
        "3:5:00:00:00",
        "x:5:00:00",
        "3:5:0:00",
        "3:5:0g:00",
        "3:5:+f:00",
    ] {
        assert!(bad.parse::<Script>().is_err(), "`{bad}` parsed");
    }
}
