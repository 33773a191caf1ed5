//! The book and event-queue accounts: program-owned raw accounts holding an 8-byte discriminator,
//! the market they belong to, then the lib/book structure. They are created by the client at full
//! size (they exceed what a program may allocate by CPI) and initialized by `create_market`.

use anchor_lang::prelude::*;
use cfx_book::{Book, EventQueue};

use crate::error::FuturesError;
use crate::keys::{key_eq, tag_is, tag_word};

pub const BOOK_DISCRIMINATOR: [u8; 8] = *b"cfxbook1";
pub const QUEUE_DISCRIMINATOR: [u8; 8] = *b"cfxevtq1";
/// Discriminator + market key.
pub const HEADER_LEN: usize = 40;

/// Checks owner, discriminator and market of a book or queue account and returns its payload.
pub fn payload<'a>(
    data: &'a mut [u8],
    discriminator: &[u8; 8],
    market: &Pubkey,
) -> Result<&'a mut [u8]> {
    if data.len() <= HEADER_LEN
        || !tag_is(data, tag_word(discriminator))
        || !key_eq(bytemuck::from_bytes(&data[8..40]), market)
    {
        return err!(FuturesError::WrongBookAccount);
    }
    Ok(&mut data[HEADER_LEN..])
}

pub fn load_book<'a>(data: &'a mut [u8], market: &Pubkey) -> Result<Book<'a>> {
    Book::load(payload(data, &BOOK_DISCRIMINATOR, market)?)
        .map_err(|_| error!(FuturesError::WrongBookAccount))
}

pub fn load_queue<'a>(data: &'a mut [u8], market: &Pubkey) -> Result<EventQueue<'a>> {
    EventQueue::load(payload(data, &QUEUE_DISCRIMINATOR, market)?)
        .map_err(|_| error!(FuturesError::WrongBookAccount))
}

/// Writes the header and initializes the payload of a zeroed account.
pub fn init_header(data: &mut [u8], discriminator: &[u8; 8], market: &Pubkey) -> Result<()> {
    require!(data.len() > HEADER_LEN, FuturesError::BookAccountTooSmall);
    require!(
        data[..HEADER_LEN].iter().all(|b| *b == 0),
        FuturesError::AccountAlreadyInitialized
    );
    data[..8].copy_from_slice(discriminator);
    data[8..40].copy_from_slice(&market.to_bytes());
    Ok(())
}
