//! The proxy bridge inside the sandbox: the command's own network namespace has only `lo`, so
//! the helper listens on 127.0.0.1:[`BRIDGE_PORT`] there and carries each connection to tend's
//! proxy through a Unix socket bind-mounted into the sandbox.

use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::thread;

use super::BRIDGE_PORT;

/// Starts listening (before the command runs, so its first request finds the port open).
pub fn start(socket: &Path) -> io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", BRIDGE_PORT))?;
    let socket = socket.to_path_buf();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(tcp) = conn else { continue };
            let socket = socket.clone();
            thread::spawn(move || carry(tcp, &socket));
        }
    });
    Ok(())
}

fn carry(tcp: TcpStream, socket: &PathBuf) {
    let Ok(unix) = UnixStream::connect(socket) else {
        let _ = tcp.shutdown(Shutdown::Both);
        return;
    };
    let (Ok(mut tcp_in), Ok(mut unix_out)) = (tcp.try_clone(), unix.try_clone()) else {
        return;
    };
    let upstream = thread::spawn(move || {
        let _ = io::copy(&mut tcp_in, &mut unix_out);
        let _ = unix_out.shutdown(Shutdown::Write);
    });
    let (mut unix_in, mut tcp_out) = (unix, tcp);
    let _ = io::copy(&mut unix_in, &mut tcp_out);
    let _ = tcp_out.shutdown(Shutdown::Write);
    let _ = upstream.join();
}
