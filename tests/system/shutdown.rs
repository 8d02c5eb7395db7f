//! Ctrl-C (SIGINT) and `docker stop` (SIGTERM) shut the server down gracefully: a request that
//! is in flight when the signal arrives still gets its answer within the grace period
//! (`server.shutdown_timeout_secs`, 1 s here), then the process exits with status 0.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_and_sigterm_let_requests_in_flight_finish() {
    let _serial = crate::SERIAL.lock().await;
    let world = World::seeded(0);
    let body = br#"{"email": "nobody@demo.techtransfer.cn", "password": "not-the-password"}"#;
    for signal in ["INT", "TERM"] {
        let mut server = world.start().await;
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port)).await.expect("connect");
        let head = format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        // Headers and half the body: the request is being handled when the signal arrives.
        stream.write_all(head.as_bytes()).await.expect("send head");
        stream.write_all(&body[..20]).await.expect("send half the body");
        tokio::time::sleep(Duration::from_millis(200)).await;
        server.signal(signal);
        tokio::time::sleep(Duration::from_millis(300)).await;
        stream.write_all(&body[20..]).await.expect("send the rest after the signal");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer).await;
        assert!(
            answer.starts_with("HTTP/1.1 401"),
            "SIG{signal}: the request in flight was cut off: {answer:?}; log:\n{}",
            server.log()
        );
        let status = server.wait_exit(Duration::from_secs(10)).await;
        assert!(status.success(), "SIG{signal}: exited with {status}; log:\n{}", server.log());
    }
}
