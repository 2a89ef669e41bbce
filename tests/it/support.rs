//! Helpers for the server tests: the real app from `build_app` on a random
//! loopback port with a throwaway SQLite file and mail folder, an HTTP
//! client, a real SMTP server process (Python's aiosmtpd), and the real
//! binary as a child process.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use handoff_gate::config::{Config, SmtpTls};
use handoff_gate::web::{AppState, build_app};
use reqwest::redirect::Policy as Redirects;
use tempfile::TempDir;

/// A running gateway.
pub struct TestApp {
    pub base: String,
    pub dir: TempDir,
    pub client: reqwest::Client,
    pub state: actix_web::web::Data<AppState>,
    handle: actix_web::dev::ServerHandle,
}

/// Test defaults: random port, files in a temp dir, no rate limit, no fill
/// delay, fast retries.
pub fn test_config(dir: &Path) -> Config {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.server.workers = 2;
    config.store.url = format!("sqlite://{}", dir.join("gate.db").display());
    config.mail.dir = dir.join("mail");
    config.data_dir = dir.join("data");
    config.limits.per_ip_per_minute = 0;
    config.limits.min_fill_seconds = 0;
    config.delivery.retry_base_ms = 50;
    config.delivery.retry_max_seconds = 1;
    config.delivery.poll_ms = 50;
    config.delivery.lease_seconds = 2;
    config
}

impl TestApp {
    /// Start with the test defaults, changed by `adjust`.
    pub async fn spawn(adjust: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::spawn_in(tempfile::tempdir().unwrap(), adjust).await
    }

    /// Stop, then start again on the same store, mail and data folders,
    /// with the test defaults changed by `adjust`.
    pub async fn restart(self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        self.handle.stop(false).await;
        TestApp::spawn_in(self.dir, adjust).await
    }

    async fn spawn_in(dir: TempDir, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = test_config(dir.path());
        adjust(&mut config);
        let app = build_app(config).await.expect("the app starts");
        let base = format!("http://{}", app.address());
        let state = app.state();
        let handle = app.handle();
        tokio::spawn(app.run());
        TestApp {
            base,
            dir,
            client: reqwest::Client::builder()
                .redirect(Redirects::none())
                .build()
                .unwrap(),
            state,
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// POST a JSON value to the API.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A fresh form token from the real form page.
    pub async fn form_token(&self) -> String {
        form_token_in(&text_of(&self.client, &self.url("/")).await)
    }

    /// POST the form urlencoded, with a fresh token added.
    pub async fn post_form(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.form_token().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("form_token", &token));
        self.client
            .post(self.url("/intake"))
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    /// Deliver everything that is due now.
    pub async fn drain(&self) -> handoff_gate::deliver::Round {
        self.state.outbox.deliver_due().await.unwrap()
    }

    /// How many intakes the store holds.
    pub async fn intake_count(&self) -> u64 {
        let states = self.state.store.outbox_states().await.unwrap();
        states.values().sum()
    }

    /// The `.eml` files the file transport wrote.
    pub fn mail_files(&self) -> Vec<String> {
        read_dir_texts(&self.dir.path().join("mail"))
    }

    /// Stop at once (open keep-alive connections would hold a graceful stop).
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// The body of `GET url`.
pub async fn text_of(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// The form token in a rendered form page.
pub fn form_token_in(page: &str) -> String {
    const FIELD: &str = "name=\"form_token\" value=\"";
    let start = page.find(FIELD).expect("the form has a token") + FIELD.len();
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

/// Every file's text in a folder (none if it does not exist).
pub fn read_dir_texts(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut texts: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned())
        .collect();
    texts.sort();
    texts
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Wait until `check` holds, or panic after `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A form intake of these JSON fields, reviewed by the default scrubber and
/// triaged by the default router: what the store takes.
pub fn reviewed(
    fields: serde_json::Value,
) -> (handoff_intake::ScrubbedIntake, handoff_triage::Triage) {
    let raw = handoff_intake::Intake::from_json(fields).expect("valid intake fields");
    let scrubbed = handoff_intake::ScrubbedIntake::review(
        raw,
        handoff_intake::Channel::Form,
        &handoff_scrub::Policy::default(),
    )
    .expect("a question the scrubber accepts");
    let triage = handoff_triage::Triager::default().triage(&scrubbed);
    (scrubbed, triage)
}

/// A real SMTP server process: aiosmtpd writing every message to a Maildir.
pub struct SmtpServer {
    pub port: u16,
    pub maildir: PathBuf,
    child: Child,
}

/// Say that a test skipped, and why, where `cargo test` shows it: libtest
/// captures `eprintln!` of passing tests, not writes to the stderr handle.
/// In CI (`CI` set, as `.ci/run` does) a skip for a tool that `.ci/run`
/// installs is a failure instead.
pub fn skipped(test: &str, why: &str, fix: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: {why}; CI must run it ({fix})"
    );
    announce_skip(test, why, fix);
}

/// Say that a test skipped because `../shared` (reference data beside the
/// repository, not part of it) is absent; it may be absent in CI too.
pub fn skipped_without_shared(test: &str, what: &str) {
    announce_skip(
        test,
        &format!("{what} not found"),
        "put the project's shared folder beside the repository",
    );
}

fn announce_skip(test: &str, why: &str, fix: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why} ({fix})");
}

/// Whether aiosmtpd can be started; in CI its absence is a failure, locally
/// the SMTP tests say they skipped.
pub fn smtp_available(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        skipped(
            test,
            "Python's aiosmtpd is not installed",
            "pip install aiosmtpd",
        );
    }
    ok
}

impl SmtpServer {
    /// Start on `port`, writing to a Maildir under `dir`; waits until it accepts connections.
    pub fn start(port: u16, dir: &Path) -> SmtpServer {
        SmtpServer::spawn(port, dir, &["aiosmtpd.handlers.Mailbox"], &[])
    }

    /// Like [`SmtpServer::start`], but every message that holds `marker`
    /// waits `delay` before the relay accepts it (`tests/smtp/slow_mailbox.py`).
    pub fn start_slow(port: u16, dir: &Path, delay: Duration, marker: &str) -> SmtpServer {
        let delay = delay.as_secs_f64().to_string();
        SmtpServer::spawn(
            port,
            dir,
            &["slow_mailbox.SlowMailbox"],
            &[delay.as_str(), marker],
        )
    }

    /// Like [`SmtpServer::start`], but mail is taken only after a login
    /// as `user` with `password` (`tests/smtp/login_relay.py`).
    pub fn start_with_login(port: u16, dir: &Path, user: &str, password: &str) -> SmtpServer {
        let maildir = dir.join("Maildir");
        let mut command = Command::new("python3");
        command
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/smtp/login_relay.py"
            ))
            .arg(port.to_string())
            .arg(&maildir)
            .args([user, password]);
        SmtpServer::run(command, port, maildir)
    }

    /// Like [`SmtpServer::start`], with a self-signed certificate made for
    /// this run (by `openssl`): offered through STARTTLS, or, with `smtps`,
    /// on a socket that is TLS from the first byte (port 465 style).
    pub fn start_self_signed(port: u16, dir: &Path, smtps: bool) -> SmtpServer {
        let (cert, key) = (dir.join("relay-cert.pem"), dir.join("relay-key.pem"));
        let made = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
            .args(["-subj", "/CN=127.0.0.1", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(made.success(), "openssl could not make a certificate");
        let (cert_flag, key_flag) = if smtps {
            ("--smtpscert", "--smtpskey")
        } else {
            ("--tlscert", "--tlskey")
        };
        let maildir = dir.join("Maildir");
        let mut command = Command::new("python3");
        command
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .arg(cert_flag)
            .arg(&cert)
            .arg(key_flag)
            .arg(&key)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir);
        SmtpServer::run(command, port, maildir)
    }

    fn spawn(port: u16, dir: &Path, handler: &[&str], extra: &[&str]) -> SmtpServer {
        // aiosmtpd creates the Maildir only when the folder does not exist yet.
        let maildir = dir.join("Maildir");
        let mut command = Command::new("python3");
        command
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-c")
            .args(handler)
            .arg(&maildir)
            .args(extra);
        SmtpServer::run(command, port, maildir)
    }

    fn run(mut command: Command, port: u16, maildir: PathBuf) -> SmtpServer {
        let child = command
            .env(
                "PYTHONPATH",
                concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp"),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let server = SmtpServer {
            port,
            maildir,
            child,
        };
        let started = Instant::now();
        while TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "aiosmtpd did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<String> {
        let mut all = read_dir_texts(&self.maildir.join("new"));
        all.extend(read_dir_texts(&self.maildir.join("cur")));
        all
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Point a configuration's mail at a plain-SMTP server on loopback.
pub fn use_smtp(config: &mut Config, port: u16) {
    config.smtp.host = Some("127.0.0.1".to_owned());
    config.smtp.port = Some(port);
    config.smtp.tls = SmtpTls::None;
    config.smtp.timeout_seconds = 2;
}

/// Undo quoted-printable soft breaks and `=XX` escapes, so a search for a
/// planted value cannot miss one split across encoded lines.
pub fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `Message-ID` header of a raw message.
pub fn message_id(raw: &str) -> Option<String> {
    raw.lines()
        .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
        .map(|l| l["message-id:".len()..].trim().to_owned())
}

/// The log of the (one) gateway process that ran in `dir`.
pub fn gateway_log(dir: &Path) -> String {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "log"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .expect("the gateway wrote a log")
}

/// The real binary as a child process, logging to a file.
pub struct GatewayProcess {
    child: Child,
    pub base: String,
}

/// `handoff-gate serve` with the test settings, `args` and `env`, in `dir`,
/// listening on `port`.
fn serve_command(dir: &Path, port: u16, args: &[&str], env: &[(&str, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_handoff-gate"));
    command
        .arg("serve")
        .args(args)
        .current_dir(dir)
        .env("HANDOFF_GATE__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("HANDOFF_GATE__LIMITS__PER_IP_PER_MINUTE", "0")
        .env("HANDOFF_GATE__LIMITS__MIN_FILL_SECONDS", "0")
        .env("HANDOFF_GATE__DELIVERY__RETRY_BASE_MS", "50")
        .env("HANDOFF_GATE__DELIVERY__RETRY_MAX_SECONDS", "1")
        .env("HANDOFF_GATE__DELIVERY__POLL_MS", "50")
        .env("HANDOFF_GATE__DELIVERY__LEASE_SECONDS", "2")
        .env("RUST_LOG", "debug");
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

impl GatewayProcess {
    /// Start `handoff-gate serve` with `env` overrides in `dir`, logging to
    /// `dir/gateway-PORT.log`; waits for /healthz.
    pub async fn start(dir: &Path, env: &[(&str, String)]) -> GatewayProcess {
        GatewayProcess::start_with(dir, &[], env).await
    }

    /// [`GatewayProcess::start`] with arguments after `serve`.
    pub async fn start_with(dir: &Path, args: &[&str], env: &[(&str, String)]) -> GatewayProcess {
        let port = free_port();
        let log = dir.join(format!("gateway-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = serve_command(dir, port, args, env)
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("the binary starts");
        let process = GatewayProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let health = format!("{}/healthz", process.base);
        eventually(
            Duration::from_secs(20),
            "the gateway to answer /healthz",
            || {
                let request = client.get(&health).send();
                async move { request.await.is_ok_and(|r| r.status().is_success()) }
            },
        )
        .await;
        process
    }

    /// Run `serve` expecting it to refuse to start: its exit status and stderr.
    pub fn refused(dir: &Path, env: &[(&str, String)]) -> (std::process::ExitStatus, String) {
        let output = serve_command(dir, free_port(), &[], env)
            .output()
            .expect("the binary runs");
        (
            output.status,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Stop it as systemd or Kubernetes do (SIGTERM) and wait for it to exit.
    pub fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "the gateway stopped with {exit}");
    }

    /// Kill it without warning (SIGKILL).
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A throwaway PostgreSQL database for one test, made on the server that
/// `TEST_DATABASE_URL` names. Without that variable the test is skipped
/// (in CI it fails: `.ci/run` sets it).
pub struct PgDatabase {
    pub url: String,
    admin: String,
    name: String,
}

impl PgDatabase {
    pub async fn create(test: &str) -> Option<PgDatabase> {
        use sqlx::Connection;
        let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
            skipped(
                test,
                "TEST_DATABASE_URL is not set, so the PostgreSQL half did not run",
                "TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres; .ci/run sets it",
            );
            return None;
        };
        // Named after the run's own database, so `.ci/run` drops exactly
        // the databases its run made and no one else's.
        let run = admin
            .rsplit('/')
            .next()
            .unwrap_or("hg")
            .to_ascii_lowercase();
        let name = format!("{run}_t{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!("{test}: PostgreSQL at TEST_DATABASE_URL is unreachable: {e}")
            });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(base, _)| base);
        Some(PgDatabase {
            url: format!("{base}/{name}"),
            admin,
            name,
        })
    }

    /// Drop the database (closing what still uses it).
    pub async fn drop_database(self) {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.admin).await.unwrap();
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }
}
