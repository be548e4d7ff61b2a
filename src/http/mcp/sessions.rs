//! Who owns each MCP session. A session is bound to the credential that opened it: the same
//! session id sent with another organization's (or another key's) credential is answered as if
//! it did not exist, and one organization holds at most `KAANHA_MCP_SESSIONS_PER_ORG` sessions
//! on an instance, so no tenant fills the memory every other tenant's sessions live in.

use std::{collections::HashMap, sync::Arc};

use rmcp::transport::streamable_http_server::session::{
    SessionManager, local::LocalSessionManager,
};
use tokio::sync::Mutex;

use crate::http::auth::{Credential, Principal};

/// The credential a session belongs to: its organization and the key (or service) inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Owner {
    org: String,
    credential: String,
}

impl Owner {
    pub fn of(principal: &Principal) -> Self {
        let credential = match &principal.credential {
            Credential::ApiKey { id, .. } => format!("key:{id}"),
            Credential::Service { subject } => {
                format!("service:{}", subject.as_deref().unwrap_or(""))
            }
        };
        Self {
            org: principal.org.to_string(),
            credential,
        }
    }
}

/// What a request naming a session may do with it.
pub enum Access {
    /// The session is this credential's, or unknown here (rmcp answers 404 for those).
    Allowed,
    /// The session is someone else's.
    Refused,
}

pub struct Sessions {
    manager: Arc<LocalSessionManager>,
    owners: Mutex<HashMap<Arc<str>, Owner>>,
    per_org: usize,
}

impl Sessions {
    pub fn new(manager: Arc<LocalSessionManager>, per_org: usize) -> Self {
        Self {
            manager,
            owners: Mutex::default(),
            per_org: per_org.max(1),
        }
    }

    pub async fn access(&self, id: &str, owner: &Owner) -> Access {
        match self.owners.lock().await.get(id) {
            Some(known) if known != owner => Access::Refused,
            _ => Access::Allowed,
        }
    }

    /// Whether `owner`'s organization may open one more session; forgets its sessions that
    /// have ended (closed, or idle past their keep-alive) on the way.
    pub async fn has_room(&self, owner: &Owner) -> bool {
        let mut owners = self.owners.lock().await;
        let mine: Vec<Arc<str>> = owners
            .iter()
            .filter(|(_, o)| o.org == owner.org)
            .map(|(id, _)| id.clone())
            .collect();
        let mut open = 0;
        for id in mine {
            if self.manager.has_session(&id).await.unwrap_or(false) {
                open += 1;
            } else {
                owners.remove(&id);
            }
        }
        open < self.per_org
    }

    pub async fn opened(&self, id: &str, owner: Owner) {
        self.owners.lock().await.insert(Arc::from(id), owner);
    }

    pub async fn closed(&self, id: &str) {
        self.owners.lock().await.remove(id);
    }
}
