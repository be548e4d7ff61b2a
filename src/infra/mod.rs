//! Infrastructure: what the floors above use and know nothing of the product.

pub mod checkpoint;
pub mod cipher;
pub mod db;
pub mod histogram;
pub mod ids;
pub mod lookup;
pub mod metrics;
pub mod pg_session;
pub mod queues;
pub mod script;
pub mod targets;
pub mod tcp_nodelay;
pub mod throttle;
pub mod time;
pub mod wake;
