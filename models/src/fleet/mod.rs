//! Fleets: the instances of a component that boot, become ready, scale,
//! drain, fail and bill — pools, LLM replicas and batch servers all compose one
//! [`pool::Pool`] — with their balancing over instances ([`balance`]),
//! their prices and bills ([`cost`]), and the autoscaler pipeline that
//! drives them ([`Scaler`]).

pub mod balance;
pub mod bill;
pub(crate) mod config;
pub mod cost;
pub mod cpu;
pub mod credits;
pub mod failure;
pub mod health;
pub mod memory;
pub mod outage;
pub mod passive;
pub mod patience;
pub mod pool;
pub mod pool_config;
mod scaler;
pub mod spot;

pub use scaler::Scaler;
