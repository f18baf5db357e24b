//! The simulated Improv device on a serial line: a pseudo-terminal whose other end
//! ([`ImprovPty::path`], `/dev/pts/N`) a client opens like a USB serial port. As on a real
//! board, the firmware's console log shares the line with the Improv packets.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use tokio::io::unix::AsyncFd;
use tokio::task::JoinHandle;
use unbox_core::improv::serial::{Packet, PacketReader};

use super::{ImprovOutput, SimImprovDevice};

/// A simulated Improv device behind a pseudo-terminal; dropping it hangs up the line.
pub struct ImprovPty {
    path: PathBuf,
    task: JoinHandle<()>,
    // Kept open so the line stays up between clients (a closed last slave makes the master
    // read EIO).
    _slave: OwnedFd,
}

impl std::fmt::Debug for ImprovPty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImprovPty").field("path", &self.path).finish_non_exhaustive()
    }
}

fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result < 0 { Err(io::Error::last_os_error()) } else { Ok(result) }
}

impl ImprovPty {
    /// Opens a pseudo-terminal in raw mode and serves `device` on it.
    pub fn open(device: SimImprovDevice) -> io::Result<Self> {
        let (mut master, mut slave) = (-1, -1);
        // SAFETY: openpty writes two descriptors; the name, termios and winsize pointers may be null.
        check(unsafe {
            libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null())
        })?;
        // SAFETY: both descriptors were just opened and are owned here alone.
        let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let mut name = [0 as libc::c_char; 128];
        // SAFETY: the buffer and its length match; ttyname_r NUL-terminates within it.
        let failed = unsafe { libc::ttyname_r(slave.as_raw_fd(), name.as_mut_ptr(), name.len()) };
        if failed != 0 {
            return Err(io::Error::from_raw_os_error(failed));
        }
        // SAFETY: ttyname_r succeeded, so the buffer holds a NUL-terminated path.
        let path = PathBuf::from(unsafe { CStr::from_ptr(name.as_ptr()) }.to_string_lossy().into_owned());
        // Raw mode: no echo, no line editing, bytes through unchanged.
        // SAFETY: termios is plain data filled by tcgetattr before use.
        unsafe {
            let mut termios: libc::termios = std::mem::zeroed();
            check(libc::tcgetattr(slave.as_raw_fd(), &mut termios))?;
            libc::cfmakeraw(&mut termios);
            check(libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &termios))?;
            let flags = check(libc::fcntl(master.as_raw_fd(), libc::F_GETFL))?;
            check(libc::fcntl(master.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK))?;
        }
        // SAFETY: the descriptor is the OwnedFd moved in: open, and owned by the AsyncFd alone.
        let master = unsafe { AsyncFd::register(master) }?;
        let task = tokio::spawn(serve(master, device));
        Ok(Self { path, task, _slave: slave })
    }

    /// The line's path for the client (`/dev/pts/N`).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ImprovPty {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(master: AsyncFd<OwnedFd>, device: SimImprovDevice) {
    let mut outputs = device.outputs();
    let mut packets = PacketReader::default();
    let banner = format!(
        "[I][app:029]: Running through setup()...\r\n[C][improv_serial:032]: Improv Serial ({})\r\n",
        device.name()
    );
    if write_all(&master, banner.as_bytes()).await.is_err() {
        return;
    }
    let mut buffer = [0u8; 512];
    loop {
        tokio::select! {
            readable = master.readable() => {
                let Ok(mut guard) = readable else { return };
                let read = guard.try_io(|fd| {
                    // SAFETY: reads into a buffer of the given length from an open descriptor.
                    let n = unsafe { libc::read(fd.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len()) };
                    if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
                });
                match read {
                    Ok(Ok(0)) => return,
                    Ok(Ok(n)) => {
                        for packet in packets.push(&buffer[..n]) {
                            match packet {
                                Ok(Packet::Command(command)) => match command.encode() {
                                    Ok(inner) => device.handle(&inner, true),
                                    Err(_) => device.reject_invalid(),
                                },
                                // A packet a client should not send, or a malformed one.
                                Ok(_) | Err(_) => device.reject_invalid(),
                            }
                        }
                    }
                    // No client has the line open (EIO) or it is not ready yet: wait.
                    Ok(Err(error)) if error.raw_os_error() == Some(libc::EIO) => {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                    Ok(Err(_)) => return,
                    Err(_would_block) => {}
                }
            }
            output = outputs.recv() => {
                let packet = match output {
                    Ok(ImprovOutput::State(state)) => Packet::State(state),
                    Ok(ImprovOutput::Error(fault)) => Packet::Error(fault),
                    Ok(ImprovOutput::Result(result)) => Packet::Result(result),
                    Ok(ImprovOutput::LinkDropped) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                };
                let Ok(bytes) = packet.encode() else { continue };
                if write_all(&master, &bytes).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn write_all(master: &AsyncFd<OwnedFd>, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        let mut guard = master.writable().await?;
        let written = guard.try_io(|fd| {
            // SAFETY: writes from a live slice of the given length to an open descriptor.
            let n = unsafe { libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) };
            if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
        });
        if let Ok(result) = written {
            bytes = &bytes[result?..];
        }
    }
    Ok(())
}
