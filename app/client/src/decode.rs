//! Account decoders: the zero-copy accounts of compute-futures (copied to aligned memory first:
//! RPC account data has no alignment guarantee), its book and event queue, and Anchor's
//! borsh accounts of both programs.

use anchor_lang::{AccountDeserialize, Discriminator};
use bytemuck::Pod;
use cfx_book::{BookEvent, BookRef, EventQueue, Order};
use compute_futures::state::book::HEADER_LEN;
use solana_sdk::pubkey::Pubkey;

use crate::ClientError;

/// A zero-copy account `T` from account data (8-byte discriminator, then `T`).
pub fn zero_copy<T: Pod + Discriminator>(data: &[u8]) -> Result<T, ClientError> {
    let size = std::mem::size_of::<T>();
    if data.len() < 8 + size || &data[..8] != T::DISCRIMINATOR {
        return Err(ClientError::Decode(std::any::type_name::<T>()));
    }
    Ok(bytemuck::pod_read_unaligned(&data[8..8 + size]))
}

/// An Anchor borsh account `T` (compute-token's classes, providers, windows, tickets).
pub fn borsh_account<T: AccountDeserialize>(data: &[u8]) -> Result<T, ClientError> {
    T::try_deserialize(&mut &data[..]).map_err(|_| ClientError::Decode(std::any::type_name::<T>()))
}

/// Payload of a book or queue account, copied into 8-byte-aligned words.
fn aligned_payload(
    data: &[u8],
    discriminator: &[u8; 8],
    market: &Pubkey,
) -> Result<Vec<u64>, ClientError> {
    if data.len() <= HEADER_LEN || &data[..8] != discriminator || data[8..40] != market.to_bytes() {
        return Err(ClientError::Decode("book or event queue"));
    }
    let payload = &data[HEADER_LEN..];
    let mut words = vec![0u64; payload.len() / 8];
    let n = words.len() * 8;
    bytemuck::cast_slice_mut::<u64, u8>(&mut words).copy_from_slice(&payload[..n]);
    Ok(words)
}

/// Both sides of a market's book, best first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BookOrders {
    pub bids: Vec<Order>,
    pub asks: Vec<Order>,
}

/// The resting orders of a book account of `market`.
pub fn book(data: &[u8], market: &Pubkey) -> Result<BookOrders, ClientError> {
    let words = aligned_payload(
        data,
        &compute_futures::state::book::BOOK_DISCRIMINATOR,
        market,
    )?;
    let book =
        BookRef::load(bytemuck::cast_slice(&words)).map_err(|_| ClientError::Decode("book"))?;
    Ok(BookOrders {
        bids: book.bids.iter().collect(),
        asks: book.asks.iter().collect(),
    })
}

/// One queued event with its record's bookkeeping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueuedEvent {
    pub event: BookEvent,
    pub seq_num: u64,
    /// Already applied to its owner (by a liquidation or settlement): the crank only pops it.
    pub owner_applied: bool,
}

impl QueuedEvent {
    /// The margin account id the crank needs for this event (maker or order owner).
    pub fn owner(&self) -> u32 {
        match &self.event {
            BookEvent::Fill(f) => f.maker,
            BookEvent::Out(o) => o.owner,
        }
    }
}

/// The events waiting in an event-queue account of `market`, oldest first.
pub fn event_queue(data: &[u8], market: &Pubkey) -> Result<Vec<QueuedEvent>, ClientError> {
    let mut words = aligned_payload(
        data,
        &compute_futures::state::book::QUEUE_DISCRIMINATOR,
        market,
    )?;
    let queue = EventQueue::load(bytemuck::cast_slice_mut(&mut words))
        .map_err(|_| ClientError::Decode("event queue"))?;
    queue
        .iter()
        .map(|r| {
            Ok(QueuedEvent {
                event: r.decode().ok_or(ClientError::Decode("event record"))?,
                seq_num: r.seq_num,
                owner_applied: r.owner_applied(),
            })
        })
        .collect()
}
