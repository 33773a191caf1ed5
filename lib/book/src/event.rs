//! Events the matching engine emits, the sink it writes them to, and the zero-copy ring buffer a
//! program stores them in until a crank applies them to makers' accounts.

use bytemuck::{Pod, Zeroable};

use crate::error::BookError;
use crate::order::Side;

/// A trade between a taker and a resting maker order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillEvent {
    pub taker_side: Side,
    pub maker: u32,
    pub taker: u32,
    /// The maker's price in ticks.
    pub price: u64,
    pub lots: u64,
    pub maker_order_id: u128,
    pub maker_client_order_id: u64,
    /// The maker order was filled completely and left the book.
    pub maker_out: bool,
}

/// Why lots left the book without trading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OutReason {
    /// Cancelled by the self-trade prevention of a taker with the same owner.
    SelfTrade = 0,
    /// Its expiry time passed; removed when met.
    Expired = 1,
    /// Pushed out of a full side by a better order.
    Evicted = 2,
    /// Taken off the book by its program (a series past its last trade).
    Released = 3,
}

impl OutReason {
    pub fn from_u8(v: u8) -> Option<OutReason> {
        Some(match v {
            0 => OutReason::SelfTrade,
            1 => OutReason::Expired,
            2 => OutReason::Evicted,
            3 => OutReason::Released,
            _ => return None,
        })
    }
}

/// Lots of a resting order removed without a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutEvent {
    pub side: Side,
    pub owner: u32,
    pub order_id: u128,
    pub client_order_id: u64,
    /// Lots taken off the book by this event.
    pub lots: u64,
    pub reason: OutReason,
    /// The order left the book (false only for a partial decrement-take).
    pub closed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookEvent {
    Fill(FillEvent),
    Out(OutEvent),
}

/// Where the engine writes events. The engine checks `free_slots` before it changes anything and
/// never pushes more than that, so `push` need not fail.
pub trait EventSink {
    fn free_slots(&self) -> usize;
    fn push(&mut self, event: BookEvent);
}

pub const EVENT_FILL: u8 = 1;
pub const EVENT_OUT: u8 = 2;
const FLAG_DONE: u8 = 1;
const FLAG_OWNER_APPLIED: u8 = 2;

/// Fixed-size encoding of a [`BookEvent`] (64 bytes).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq)]
pub struct EventRecord {
    /// [`EVENT_FILL`] or [`EVENT_OUT`].
    pub kind: u8,
    /// Taker side for fills, order side for outs.
    pub side: u8,
    /// [`OutReason`] for outs.
    pub reason: u8,
    /// Bit 0: maker out (fills) or order closed (outs).
    pub flags: u8,
    /// Maker (fills) or order owner (outs).
    pub owner: u32,
    /// Taker (fills).
    pub taker: u32,
    /// Free for the caller: the engine writes 0 and never reads it. A program can annotate a
    /// record after `new_order` (compute-futures stores the maker fee rate in effect at the fill).
    pub tag: u32,
    pub price: u64,
    pub lots: u64,
    pub order_id: [u64; 2],
    pub client_order_id: u64,
    /// Position in the queue's whole history, stamped on push.
    pub seq_num: u64,
}

impl EventRecord {
    pub fn encode(event: &BookEvent, seq_num: u64) -> EventRecord {
        match event {
            BookEvent::Fill(f) => EventRecord {
                kind: EVENT_FILL,
                side: f.taker_side as u8,
                reason: 0,
                flags: f.maker_out as u8 * FLAG_DONE,
                owner: f.maker,
                taker: f.taker,
                tag: 0,
                price: f.price,
                lots: f.lots,
                order_id: [f.maker_order_id as u64, (f.maker_order_id >> 64) as u64],
                client_order_id: f.maker_client_order_id,
                seq_num,
            },
            BookEvent::Out(o) => EventRecord {
                kind: EVENT_OUT,
                side: o.side as u8,
                reason: o.reason as u8,
                flags: o.closed as u8 * FLAG_DONE,
                owner: o.owner,
                taker: 0,
                tag: 0,
                price: (o.order_id >> 64) as u64,
                lots: o.lots,
                order_id: [o.order_id as u64, (o.order_id >> 64) as u64],
                client_order_id: o.client_order_id,
                seq_num,
            },
        }
    }

    /// Whether this event was already applied to its owner (the maker of a fill, the owner of an
    /// out) by someone other than the crank (a liquidation that could not wait for it): the
    /// crank then only pays the event's reward.
    pub fn owner_applied(&self) -> bool {
        self.flags & FLAG_OWNER_APPLIED != 0
    }

    /// Marks the event as applied to its owner (see [`EventRecord::owner_applied`]).
    pub fn set_owner_applied(&mut self) {
        self.flags |= FLAG_OWNER_APPLIED;
    }

    /// Decodes the record; `None` for a malformed one.
    pub fn decode(&self) -> Option<BookEvent> {
        let order_id = ((self.order_id[1] as u128) << 64) | self.order_id[0] as u128;
        let done = self.flags & FLAG_DONE != 0;
        match self.kind {
            EVENT_FILL => Some(BookEvent::Fill(FillEvent {
                taker_side: Side::from_u8(self.side)?,
                maker: self.owner,
                taker: self.taker,
                price: self.price,
                lots: self.lots,
                maker_order_id: order_id,
                maker_client_order_id: self.client_order_id,
                maker_out: done,
            })),
            EVENT_OUT => Some(BookEvent::Out(OutEvent {
                side: Side::from_u8(self.side)?,
                owner: self.owner,
                order_id,
                client_order_id: self.client_order_id,
                lots: self.lots,
                reason: OutReason::from_u8(self.reason)?,
                closed: done,
            })),
            _ => None,
        }
    }
}

const QUEUE_MAGIC: u32 = u32::from_le_bytes(*b"CFXQ");

/// Ring-buffer header.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq)]
pub struct QueueHeader {
    pub magic: u32,
    pub capacity: u32,
    /// Slot of the oldest event.
    pub head: u32,
    pub count: u32,
    /// Events ever pushed.
    pub seq_num: u64,
}

const QUEUE_HEADER: usize = core::mem::size_of::<QueueHeader>();
const RECORD: usize = core::mem::size_of::<EventRecord>();

/// Zero-copy FIFO of events over a caller-provided buffer.
pub struct EventQueue<'a> {
    hdr: &'a mut QueueHeader,
    records: &'a mut [EventRecord],
}

impl<'a> EventQueue<'a> {
    /// Buffer size for a queue of `capacity` events.
    pub const fn size_for(capacity: usize) -> usize {
        QUEUE_HEADER + capacity * RECORD
    }

    fn split(buf: &'a mut [u8]) -> Result<(&'a mut QueueHeader, &'a mut [EventRecord]), BookError> {
        if buf.len() < Self::size_for(1) {
            return Err(BookError::BufferTooSmall);
        }
        if !(buf.as_ptr() as usize).is_multiple_of(8) {
            return Err(BookError::BufferMisaligned);
        }
        let capacity = (buf.len() - QUEUE_HEADER) / RECORD;
        let (h, rest) = buf.split_at_mut(QUEUE_HEADER);
        let hdr: &mut QueueHeader =
            bytemuck::try_from_bytes_mut(h).map_err(|_| BookError::BufferMisaligned)?;
        let records: &mut [EventRecord] =
            bytemuck::try_cast_slice_mut(&mut rest[..capacity * RECORD])
                .map_err(|_| BookError::BufferMisaligned)?;
        Ok((hdr, records))
    }

    /// Initializes an all-zero buffer.
    pub fn init(buf: &'a mut [u8]) -> Result<EventQueue<'a>, BookError> {
        let (hdr, records) = Self::split(buf)?;
        if hdr.magic != 0 {
            return Err(BookError::AlreadyInitialized);
        }
        *hdr = QueueHeader {
            magic: QUEUE_MAGIC,
            capacity: records.len() as u32,
            head: 0,
            count: 0,
            seq_num: 0,
        };
        Ok(EventQueue { hdr, records })
    }

    /// Opens an initialized buffer.
    pub fn load(buf: &'a mut [u8]) -> Result<EventQueue<'a>, BookError> {
        let (hdr, records) = Self::split(buf)?;
        if hdr.magic != QUEUE_MAGIC
            || hdr.capacity as usize != records.len()
            || hdr.head >= hdr.capacity
            || hdr.count > hdr.capacity
        {
            return Err(BookError::NotInitialized);
        }
        Ok(EventQueue { hdr, records })
    }

    pub fn len(&self) -> usize {
        self.hdr.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.hdr.count == 0
    }

    pub fn capacity(&self) -> usize {
        self.records.len()
    }

    /// Events ever pushed; the next event gets this number.
    pub fn seq_num(&self) -> u64 {
        self.hdr.seq_num
    }

    pub fn push_record(&mut self, event: &BookEvent) -> Result<(), BookError> {
        if self.hdr.count >= self.hdr.capacity {
            return Err(BookError::QueueFull);
        }
        let slot = (self.hdr.head as usize + self.hdr.count as usize) % self.records.len();
        self.records[slot] = EventRecord::encode(event, self.hdr.seq_num);
        self.hdr.count += 1;
        self.hdr.seq_num += 1;
        Ok(())
    }

    /// The oldest event.
    pub fn front(&self) -> Option<&EventRecord> {
        (self.hdr.count > 0).then(|| &self.records[self.hdr.head as usize])
    }

    /// Removes and returns the oldest event.
    pub fn pop(&mut self) -> Option<EventRecord> {
        if self.hdr.count == 0 {
            return None;
        }
        let rec = self.records[self.hdr.head as usize];
        self.hdr.head = (self.hdr.head + 1) % self.hdr.capacity;
        self.hdr.count -= 1;
        Some(rec)
    }

    /// Events oldest first, without removing them.
    pub fn iter(&self) -> impl Iterator<Item = &EventRecord> + '_ {
        self.newest(self.hdr.count as usize)
    }

    /// The event `i` places after the oldest, for annotating (see [`EventRecord::tag`]).
    pub fn get_mut(&mut self, i: usize) -> Option<&mut EventRecord> {
        if i >= self.hdr.count as usize {
            return None;
        }
        let slot = (self.hdr.head as usize + i) % self.records.len();
        Some(&mut self.records[slot])
    }

    /// The newest `n` events (all of them if fewer), oldest of those first.
    pub fn newest(&self, n: usize) -> impl Iterator<Item = &EventRecord> + '_ {
        let cap = self.records.len();
        let count = self.hdr.count as usize;
        let n = n.min(count);
        let start = self.hdr.head as usize + count - n;
        (0..n).map(move |i| &self.records[(start + i) % cap])
    }
}

impl EventSink for EventQueue<'_> {
    fn free_slots(&self) -> usize {
        (self.hdr.capacity - self.hdr.count) as usize
    }

    fn push(&mut self, event: BookEvent) {
        // The engine never pushes more than free_slots(); a full queue here is unreachable.
        let _ = self.push_record(&event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(lots: u64) -> BookEvent {
        BookEvent::Fill(FillEvent {
            taker_side: Side::Bid,
            maker: 7,
            taker: 9,
            price: 101,
            lots,
            maker_order_id: (101u128 << 64) | 5,
            maker_client_order_id: 42,
            maker_out: true,
        })
    }

    #[test]
    fn record_roundtrip() {
        assert_eq!(core::mem::size_of::<EventRecord>(), 64);
        let f = fill(3);
        assert_eq!(EventRecord::encode(&f, 0).decode(), Some(f));
        let o = BookEvent::Out(OutEvent {
            side: Side::Ask,
            owner: 1,
            order_id: (5u128 << 64) | 77,
            client_order_id: 8,
            lots: 4,
            reason: OutReason::Evicted,
            closed: true,
        });
        assert_eq!(EventRecord::encode(&o, 3).decode(), Some(o));
        // Marking an event applied to its owner keeps what it decodes to.
        let mut r = EventRecord::encode(&f, 0);
        assert!(!r.owner_applied());
        r.set_owner_applied();
        assert!(r.owner_applied());
        assert_eq!(r.decode(), Some(f));
        let mut bad = EventRecord::encode(&o, 3);
        bad.kind = 9;
        assert_eq!(bad.decode(), None);
    }

    #[test]
    fn ring_wraps_in_order() {
        let mut buf = vec![0u64; EventQueue::size_for(3) / 8];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
        let mut q = EventQueue::init(bytes).unwrap();
        assert_eq!(q.capacity(), 3);
        for round in 0..5u64 {
            q.push_record(&fill(round * 10 + 1)).unwrap();
            q.push_record(&fill(round * 10 + 2)).unwrap();
            assert_eq!(q.free_slots(), 1);
            let lots: Vec<u64> = q.iter().map(|r| r.lots).collect();
            assert_eq!(lots, vec![round * 10 + 1, round * 10 + 2]);
            let newest: Vec<u64> = q.newest(1).map(|r| r.lots).collect();
            assert_eq!(newest, vec![round * 10 + 2]);
            assert_eq!(q.newest(5).count(), 2);
            q.get_mut(1).unwrap().tag = 7;
            assert_eq!(q.newest(1).next().unwrap().tag, 7);
            assert!(q.get_mut(2).is_none());
            assert_eq!(q.pop().unwrap().lots, round * 10 + 1);
            assert_eq!(q.pop().unwrap().seq_num, round * 2 + 1);
            assert!(q.pop().is_none());
        }
        for i in 0..3 {
            q.push_record(&fill(i + 1)).unwrap();
        }
        assert_eq!(q.push_record(&fill(9)), Err(BookError::QueueFull));
        assert_eq!(q.len(), 3);
    }

    #[test]
    fn load_checks_header() {
        let mut buf = vec![0u64; EventQueue::size_for(4) / 8];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
        assert!(matches!(
            EventQueue::load(bytes),
            Err(BookError::NotInitialized)
        ));
        EventQueue::init(bytes).unwrap();
        assert!(matches!(
            EventQueue::init(bytes),
            Err(BookError::AlreadyInitialized)
        ));
        assert!(EventQueue::load(bytes).is_ok());
        let short = &mut bytes[..EventQueue::size_for(2)];
        assert!(matches!(
            EventQueue::load(short),
            Err(BookError::NotInitialized)
        ));
        assert!(matches!(
            EventQueue::init(&mut [0u8; 8][..]),
            Err(BookError::BufferTooSmall)
        ));
    }
}
