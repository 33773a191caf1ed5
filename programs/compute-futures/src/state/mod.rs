pub mod book;
pub mod create;
pub mod exchange;
pub mod margin_account;
pub mod market;
pub mod price_index;

pub use exchange::*;
pub use margin_account::*;
pub use market::*;
pub use price_index::*;
