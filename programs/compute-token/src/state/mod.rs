pub mod class;
pub mod position;
pub mod provider;
pub mod registry;
pub mod ticket;
pub mod window;

pub use class::*;
pub use position::*;
pub use provider::*;
pub use registry::*;
pub use ticket::*;
pub use window::*;
