//! What the tests that run `unbox` as a process share: the built binary, a background process
//! killed on drop, and one run of a command with its state in a folder of its own.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;

/// The built `unbox` binary.
pub fn unbox() -> Command {
    Command::cargo_bin("unbox").expect("the unbox binary is built")
}

/// A background `unbox` process (a simulator), killed on drop.
pub struct Running {
    pub child: Child,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `unbox ARGS` with its state under `state_dir`; returns the exit code, stdout and stderr.
pub fn run_unbox(state_dir: &Path, args: &[&str]) -> (i32, String, String) {
    run_unbox_as(state_dir, None, "", args)
}

/// Runs `unbox ARGS` as [`run_unbox`] does; a sign-in asks for the test person `login_hint`
/// names (the simulated provider's "sign in as"), and `stdin` is the command's input.
pub fn run_unbox_as(
    state_dir: &Path,
    login_hint: Option<&str>,
    stdin: &str,
    args: &[&str],
) -> (i32, String, String) {
    // The "browser" performs the sign-in request and follows the redirect to the loopback
    // callback, as a person's browser would after auto-consent.
    let browser = match login_hint {
        Some(hint) => format!("curl -sSfL -o /dev/null %s&login_hint={hint}"),
        None => "curl -sSfL -o /dev/null %s".to_owned(),
    };
    let mut child = unbox()
        .args(args)
        .env("UNBOX_STATE_DIR", state_dir)
        .env("BROWSER", browser)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run unbox");
    // A command that does not read its input may exit first: a refused write is no failure.
    let _ = child.stdin.take().expect("stdin").write_all(stdin.as_bytes());
    let output = child.wait_with_output().expect("run unbox");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Starts `unbox sim ARGS` and returns it with the first line it prints (where it listens).
pub fn start_sim(args: &[&str]) -> (Running, String) {
    let mut child = unbox()
        .arg("sim")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start unbox sim");
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    stdout.read_line(&mut line).expect("read the first line");
    // What it prints later (a portal device's "joined") must not meet a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (Running { child }, line)
}
