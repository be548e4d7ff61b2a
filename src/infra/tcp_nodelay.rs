//! Turns Nagle's algorithm off on the PostgreSQL connections.
//!
//! sqlx 0.9.0 no longer sets `TCP_NODELAY` on its sockets (sqlx issue #4335; the fix, #4336, is
//! not released yet). A statement larger than one TCP segment then ends in a small segment that
//! the kernel holds until the server acknowledges the first, and the server delays that
//! acknowledgement by 40 ms. The benchmark found every outcome batch of the delivery engine
//! (an `INSERT` of a hundred log rows) waiting those 40 ms: on PostgreSQL, end-to-end
//! deliveries went from 2,100/s to 7,100/s once the delay was gone.
//!
//! sqlx gives no access to its socket, so after each connection is made we ask the server which
//! ports it sees, find our socket with those ports among the process's open files, and set the
//! option on it. Remove this module once sqlx sets `TCP_NODELAY` itself again.

use sea_orm::sqlx::{self, PgConnection};

/// Sets `TCP_NODELAY` on the socket of a new connection. Over a Unix socket (or off Linux) there
/// is nothing to do; failing to find the socket only costs speed, so it is logged, not raised.
pub async fn set_on(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let ports: (Option<i32>, Option<i32>) =
        sqlx::query_as("SELECT inet_client_port(), inet_server_port()")
            .fetch_one(conn)
            .await?;
    if let (Some(local), Some(remote)) = ports
        && !set_on_socket(local as u16, remote as u16)
    {
        tracing::debug!(
            local,
            remote,
            "could not find the database socket to set TCP_NODELAY on"
        );
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn set_on_socket(local_port: u16, remote_port: u16) -> bool {
    use std::os::fd::{BorrowedFd, RawFd};

    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return false;
    };
    for entry in entries.flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<RawFd>() else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: the descriptor is only borrowed for two `getsockname`-style calls and one
        // `setsockopt`. If another thread closed it meanwhile, the calls fail (EBADF); if the
        // number was reused, the port check below keeps us off any socket but ours.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&fd);
        let port_of = |addr: std::io::Result<socket2::SockAddr>| {
            addr.ok().and_then(|a| a.as_socket()).map(|a| a.port())
        };
        if port_of(socket.local_addr()) == Some(local_port)
            && port_of(socket.peer_addr()) == Some(remote_port)
        {
            return socket.set_tcp_nodelay(true).is_ok();
        }
    }
    false
}

#[cfg(not(target_os = "linux"))]
fn set_on_socket(_local_port: u16, _remote_port: u16) -> bool {
    false
}
