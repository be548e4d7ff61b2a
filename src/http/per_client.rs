//! Connections and requests held per client address, each capped well below what the whole
//! gateway allows: one client (a valid key trickling bodies, or a script opening sockets) may
//! take its share, never everyone's.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
};

/// How many of something each client address holds, at most `max`.
#[derive(Clone)]
pub struct PerClient {
    max: usize,
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One held by a client, given back when dropped.
pub struct ClientSlot {
    ip: IpAddr,
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerClient {
    pub fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            held: Arc::default(),
        }
    }

    /// One more for `ip`, unless it holds `max` already.
    pub fn take(&self, ip: IpAddr) -> Option<ClientSlot> {
        let mut held = self.held.lock().unwrap();
        let count = held.entry(ip).or_default();
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            ip,
            held: self.held.clone(),
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap();
        if let Some(count) = held.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_holds_at_most_its_share_and_gets_it_back() {
        let clients = PerClient::new(2);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = clients.take(a).unwrap();
        let _second = clients.take(a).unwrap();
        assert!(clients.take(a).is_none());
        assert!(clients.take(b).is_some(), "another address is not affected");
        drop(first);
        assert!(clients.take(a).is_some());
    }
}
