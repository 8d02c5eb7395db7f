//! `techtransfer bench files`: upload and download throughput of one large file, then the
//! server's resident memory while many such uploads run at once. The server is this binary
//! started as a child process (fresh SQLite database, local directory or S3 storage), so its
//! memory is measured apart from the client's.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BOUNDARY: &str = "tt-bench-boundary-d41d8cd98f00b204";

pub struct Options {
    pub size_mib: usize,
    pub concurrent: usize,
    /// `None`: a local directory; `Some(endpoint)`: `s3://bucket` at this endpoint.
    pub s3: Option<(String, String)>,
    pub part_size_bytes: Option<usize>,
}

struct Server {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn server_env(cmd: &mut Command, dir: &std::path::Path, port: u16, opts: &Options) {
    cmd.env("TT__DATABASE__URL", format!("sqlite://{}", dir.join("bench.db").display()))
        .env("TT__SERVER__PORT", port.to_string())
        .env("TT__SERVER__WORKERS", "2")
        .env("TT__JOBS__INTERVAL_SECS", "0")
        .env("TT__SEARCH__CATCHUP_SECS", "0")
        .env("TT__MAIL__TRANSPORT", "log")
        .env("TT__LOG__LEVEL", "warn")
        .env("TT__AUTH__ARGON2_M_KIB", "8")
        .env("TT__AUTH__ARGON2_T", "1")
        .env("TT__STORAGE__URL", dir.join("files").display().to_string());
    if let Some((endpoint, bucket)) = &opts.s3 {
        cmd.env("TT__STORAGE__URL", format!("s3://{bucket}"))
            .env("TT__STORAGE__ENDPOINT", endpoint)
            .env("TT__STORAGE__ALLOW_HTTP", "true")
            .env("TT__STORAGE__ACCESS_KEY_ID", "bench")
            .env("TT__STORAGE__SECRET_ACCESS_KEY", "bench")
            .env("TT__STORAGE__PREFIX", format!("bench-{}", uuid::Uuid::new_v4().simple()));
    }
    if let Some(part) = opts.part_size_bytes {
        cmd.env("TT__STORAGE__S3_PART_SIZE_BYTES", part.to_string())
            .env("TT__STORAGE__LOCAL_CHUNK_BYTES", part.to_string());
    }
}

fn start_server(opts: &Options) -> anyhow::Result<Server> {
    let exe = std::env::current_exe()?;
    let dir = std::env::temp_dir().join(format!("tt-bench-files-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let port = free_port()?;
    let mut admin = Command::new(&exe);
    admin.args(["create-admin", "--email", "bench@example.cn", "--password", "bench-password-123"]);
    server_env(&mut admin, &dir, port, opts);
    let status = admin.stdout(Stdio::null()).status()?;
    anyhow::ensure!(status.success(), "create-admin failed");
    let mut serve = Command::new(&exe);
    serve.arg("serve").stdout(Stdio::null());
    server_env(&mut serve, &dir, port, opts);
    let child = serve.spawn()?;
    let server = Server { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(Instant::now() < deadline, "the server did not start within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(server)
}

/// Resident and peak resident memory of a process, MiB.
fn rss_of(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// One HTTP/1.1 exchange: the head, then `body` bytes produced by `fill`, then the response.
async fn exchange(
    port: u16,
    head: String,
    body_len: u64,
    mut fill: impl FnMut(&mut Vec<u8>) -> bool,
) -> anyhow::Result<(u16, Vec<u8>, u64)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    stream.set_nodelay(true)?;
    stream.write_all(head.as_bytes()).await?;
    let mut sent = 0u64;
    let mut buf = Vec::with_capacity(256 * 1024);
    while sent < body_len {
        buf.clear();
        if !fill(&mut buf) {
            break;
        }
        if stream.write_all(&buf).await.is_err() {
            // The server answered early (a refusal): read what it said.
            break;
        }
        sent += buf.len() as u64;
        tokio::task::yield_now().await;
    }
    // Response head.
    let mut raw = Vec::new();
    let mut chunk = vec![0u8; 256 * 1024];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "connection closed before the response head");
        raw.extend_from_slice(&chunk[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head_text = String::from_utf8_lossy(&raw[..head_end]).to_string();
    let status: u16 = head_text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let length: u64 = head_text
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0);
    let mut body = raw[head_end..].to_vec();
    let mut received = body.len() as u64;
    // Large bodies are counted, not kept.
    let keep = length <= 1024 * 1024;
    while received < length {
        let n = stream.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "connection closed after {received} of {length} bytes");
        received += n as u64;
        if keep {
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Ok((status, body, received))
}

async fn login(port: u16) -> anyhow::Result<String> {
    let body = r#"{"email":"bench@example.cn","password":"bench-password-123"}"#;
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (status, body, _) = exchange(port, head, 0, |_| false).await?;
    anyhow::ensure!(status == 200, "login answered {status}: {}", String::from_utf8_lossy(&body));
    let json: serde_json::Value = serde_json::from_slice(&body)?;
    json["access_token"].as_str().map(str::to_owned).ok_or_else(|| anyhow::anyhow!("no access token"))
}

const NOISE: usize = 256 * 1024;

/// 512 KiB of pseudo-random bytes, made once.
fn noise() -> &'static [u8] {
    static NOISE_BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    NOISE_BYTES.get_or_init(|| {
        let mut x: u32 = 2_463_534_242;
        (0..2 * NOISE)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    })
}

/// Uploads `size` bytes of generated PDF-looking content; returns the file id.
async fn upload(port: u16, token: &str, size: u64, seed: u32) -> anyhow::Result<String> {
    let prefix = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nother\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"基准测试.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    );
    let suffix = format!("\r\n--{BOUNDARY}--\r\n");
    let total = prefix.len() as u64 + size + suffix.len() as u64;
    let head = format!(
        "POST /api/v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n"
    );
    let mut stage = 0u8;
    let mut written = 0u64;
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    let (status, body, _) = exchange(port, head, total, |buf| match stage {
        0 => {
            buf.extend_from_slice(prefix.as_bytes());
            let magic = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
            buf.extend_from_slice(magic);
            written = magic.len() as u64;
            stage = 1;
            true
        }
        1 => {
            let n = (size - written).min(NOISE as u64) as usize;
            // Fresh bytes per chunk would make the client, not the server, the bottleneck:
            // one block of noise, shifted per file and chunk.
            let at = (x as usize ^ written as usize) % NOISE;
            buf.extend_from_slice(&noise()[at..at + n]);
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            written += n as u64;
            if written >= size {
                buf.extend_from_slice(suffix.as_bytes());
                stage = 2;
            }
            true
        }
        _ => false,
    })
    .await?;
    anyhow::ensure!(status == 201, "upload answered {status}: {}", String::from_utf8_lossy(&body));
    let json: serde_json::Value = serde_json::from_slice(&body)?;
    json["id"].as_str().map(str::to_owned).ok_or_else(|| anyhow::anyhow!("no file id"))
}

async fn download(port: u16, token: &str, id: &str) -> anyhow::Result<u64> {
    let head = format!(
        "GET /api/v1/files/{id} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    let (status, _, received) = exchange(port, head, 0, |_| false).await?;
    anyhow::ensure!(status == 200, "download answered {status}");
    Ok(received)
}

pub fn run(opts: &Options) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    if let Some((endpoint, bucket)) = &opts.s3 {
        // The bucket must exist before the server writes to it (an S3 test server starts empty);
        // creating one that exists is harmless here.
        let url = format!("{}/{bucket}", endpoint.trim_end_matches('/'));
        let created = rt.block_on(async { reqwest::Client::new().put(&url).send().await })?;
        anyhow::ensure!(
            created.status().is_success() || created.status().as_u16() == 409,
            "creating the bucket at {url} answered {}",
            created.status()
        );
    }
    let server = start_server(opts)?;
    let pid = server.child.id();
    let port = server.port;
    let size = (opts.size_mib as u64) * 1024 * 1024;
    let mib = opts.size_mib as f64;
    let storage = match &opts.s3 {
        Some((endpoint, bucket)) => format!("s3://{bucket} at {endpoint}"),
        None => "local directory".to_owned(),
    };
    let part = opts.part_size_bytes.map_or_else(
        || if opts.s3.is_some() { "5 MiB (default)".to_owned() } else { "256 KiB (default)".to_owned() },
        |p| format!("{:.2} MiB", p as f64 / 1048576.0),
    );
    println!("storage: {storage}; part/chunk size {part}; file {} MiB; server pid {pid}", opts.size_mib);
    rt.block_on(async move {
        let token = login(port).await?;
        // Warm-up: one small upload, so lazily built state is in the baseline.
        upload(port, &token, 64 * 1024, 1).await?;

        let started = Instant::now();
        let id = upload(port, &token, size, 2).await?;
        let up = started.elapsed();
        let started = Instant::now();
        let got = download(port, &token, &id).await?;
        let down = started.elapsed();
        anyhow::ensure!(got == size, "downloaded {got} of {size} bytes");
        println!("single upload:   {:>7.1} MiB/s ({:.2} s)", mib / up.as_secs_f64(), up.as_secs_f64());
        println!("single download: {:>7.1} MiB/s ({:.2} s)", mib / down.as_secs_f64(), down.as_secs_f64());

        let (baseline, _) = rss_of(pid);
        let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let flag = sampling.clone();
        let sampler = tokio::spawn(async move {
            let mut peak: f64 = 0.0;
            while flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss_of(pid).0);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            peak
        });
        let started = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..opts.concurrent {
            let token = token.clone();
            tasks.push(tokio::spawn(async move { upload(port, &token, size, 100 + i as u32).await }));
        }
        for t in tasks {
            t.await??;
        }
        let wall = started.elapsed();
        sampling.store(false, std::sync::atomic::Ordering::Relaxed);
        let peak = sampler.await?;
        let (_, hwm) = rss_of(pid);
        println!(
            "{} concurrent uploads: {:.2} s, {:.1} MiB/s aggregate",
            opts.concurrent,
            wall.as_secs_f64(),
            mib * opts.concurrent as f64 / wall.as_secs_f64()
        );
        println!(
            "server RSS: baseline {baseline:.1} MiB, peak {peak:.1} MiB (sampled every 10 ms; VmHWM {hwm:.1} MiB), growth {:.1} MiB",
            peak - baseline
        );
        Ok::<(), anyhow::Error>(())
    })?;
    drop(server);
    Ok(())
}
