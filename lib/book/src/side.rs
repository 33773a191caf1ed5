//! One side of the book: a crit-bit tree over caller-owned pools of leaves and inner nodes.

use bytemuck::{Pod, Zeroable};

use crate::error::BookError;
use crate::node::{index, is_leaf, Inner, KeyBits, Leaf, LEAF_TAG, NIL};
use crate::order::{Order, Side};

/// Per-side bookkeeping, stored in the book header.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq)]
pub struct SideHeader {
    pub root: u32,
    /// Resting orders.
    pub count: u32,
    /// Head of the free-leaf list (NIL when empty).
    pub leaf_free: u32,
    /// Leaves ever handed out from the untouched end of the pool.
    pub leaf_bump: u32,
    pub inner_free: u32,
    pub inner_bump: u32,
}

impl SideHeader {
    pub(crate) const EMPTY: SideHeader = SideHeader {
        root: NIL,
        count: 0,
        leaf_free: NIL,
        leaf_bump: 0,
        inner_free: NIL,
        inner_bump: 0,
    };
}

/// Deepest possible path: crit bits strictly decrease along a path of u128 keys.
pub(crate) const MAX_DEPTH: usize = 129;

/// Where a leaf hangs: its parent link and the grandparent link, so it can be unlinked without a
/// second walk.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LeafPath {
    pub leaf: usize,
    parent: Option<(u32, usize)>,
    grandparent: Option<(u32, usize)>,
}

/// Read-only view of a side.
#[derive(Clone, Copy)]
pub struct SideRef<'a> {
    pub(crate) side: Side,
    pub(crate) hdr: &'a SideHeader,
    pub(crate) leaves: &'a [Leaf],
    pub(crate) inners: &'a [Inner],
}

/// Mutable side.
pub struct BookSide<'a> {
    pub(crate) side: Side,
    pub(crate) hdr: &'a mut SideHeader,
    pub(crate) leaves: &'a mut [Leaf],
    pub(crate) inners: &'a mut [Inner],
}

/// Walks from the root, choosing a child at each inner node.
#[inline(always)]
fn walk(
    hdr: &SideHeader,
    inners: &[Inner],
    mut pick: impl FnMut(&Inner) -> usize,
) -> Option<LeafPath> {
    let mut node = hdr.root;
    if node == NIL {
        return None;
    }
    let mut parent = None;
    let mut grandparent = None;
    while !is_leaf(node) {
        let inner = &inners[node as usize];
        let dir = pick(inner);
        grandparent = parent;
        parent = Some((node, dir));
        node = inner.children[dir];
    }
    Some(LeafPath {
        leaf: index(node),
        parent,
        grandparent,
    })
}

impl<'a> SideRef<'a> {
    pub fn side(&self) -> Side {
        self.side
    }

    pub fn len(&self) -> usize {
        self.hdr.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.hdr.count == 0
    }

    pub fn capacity(&self) -> usize {
        self.leaves.len()
    }

    pub fn is_full(&self) -> bool {
        self.len() >= self.capacity()
    }

    /// The order with the highest priority.
    pub fn best(&self) -> Option<Order> {
        let dir = self.side.best_dir();
        walk(self.hdr, self.inners, |_| dir).map(|p| Order::from_leaf(&self.leaves[p.leaf]))
    }

    /// The order with the lowest priority (the one a full side evicts).
    pub fn worst(&self) -> Option<Order> {
        let dir = 1 - self.side.best_dir();
        walk(self.hdr, self.inners, |_| dir).map(|p| Order::from_leaf(&self.leaves[p.leaf]))
    }

    /// Best price in ticks.
    pub fn best_price(&self) -> Option<u64> {
        self.best().map(|o| o.price)
    }

    /// The resting order with this id.
    pub fn find(&self, order_id: u128) -> Option<Order> {
        let k = KeyBits::new(order_id);
        let path = walk(self.hdr, self.inners, |n| k.bit(n.bit))?;
        let leaf = &self.leaves[path.leaf];
        (leaf.key() == order_id).then(|| Order::from_leaf(leaf))
    }

    /// Orders in priority order (best first).
    pub fn iter(&self) -> SideIter<'a> {
        let mut it = SideIter {
            leaves: self.leaves,
            inners: self.inners,
            dir: self.side.best_dir(),
            stack: [NIL; MAX_DEPTH],
            depth: 0,
        };
        if self.hdr.root != NIL {
            it.stack[0] = self.hdr.root;
            it.depth = 1;
        }
        it
    }

    /// Checks the tree and pool accounting: crit bits decrease along every path, each leaf sits
    /// on the side of every branch that its key selects, keys come out strictly ordered, the count
    /// matches, and every pool slot is either in the tree or on its free list exactly once.
    pub fn check(&self) -> Result<(), &'static str> {
        let h = self.hdr;
        let cap = self.leaves.len();
        if h.count as usize > cap
            || h.leaf_bump as usize > cap
            || h.inner_bump as usize > self.inners.len()
        {
            return Err("header counters out of range");
        }
        let mut leaves = 0usize;
        let mut inners = 0usize;
        if h.root != NIL {
            // (node, highest bit allowed, key prefix constraints as (mask, value))
            let mut stack = [(0u32, 0u32, 0u128, 0u128); MAX_DEPTH];
            stack[0] = (h.root, 128, 0, 0);
            let mut depth = 1;
            while depth > 0 {
                depth -= 1;
                let (node, limit, mask, value) = stack[depth];
                if is_leaf(node) {
                    let i = index(node);
                    if i >= h.leaf_bump as usize {
                        return Err("leaf link past the bump pointer");
                    }
                    if self.leaves[i].key() & mask != value {
                        return Err("leaf on the wrong side of a branch");
                    }
                    leaves += 1;
                } else {
                    let i = node as usize;
                    if i >= h.inner_bump as usize {
                        return Err("inner link past the bump pointer");
                    }
                    let inner = &self.inners[i];
                    if inner.bit >= limit {
                        return Err("crit bits do not decrease along a path");
                    }
                    inners += 1;
                    if inners > cap || depth + 2 > MAX_DEPTH {
                        return Err("tree too large");
                    }
                    let m = mask | (1u128 << inner.bit);
                    stack[depth] = (inner.children[0], inner.bit, m, value);
                    stack[depth + 1] = (
                        inner.children[1],
                        inner.bit,
                        m,
                        value | (1u128 << inner.bit),
                    );
                    depth += 2;
                }
            }
        }
        if leaves != h.count as usize || inners != leaves.saturating_sub(1) {
            return Err("node count does not match the header");
        }
        let mut prev: Option<u128> = None;
        let mut seen = 0usize;
        for o in self.iter() {
            if let Some(p) = prev {
                let ordered = match self.side {
                    Side::Bid => o.order_id < p,
                    Side::Ask => o.order_id > p,
                };
                if !ordered {
                    return Err("orders out of priority order");
                }
            }
            if Side::of_order_id(o.order_id) != self.side || o.lots == 0 {
                return Err("order of the wrong side or with no lots");
            }
            prev = Some(o.order_id);
            seen += 1;
        }
        if seen != leaves {
            return Err("iteration count differs from tree count");
        }
        let mut free = 0usize;
        let mut link = h.leaf_free;
        while link != NIL {
            if link as usize >= h.leaf_bump as usize || free > cap {
                return Err("bad free-leaf list");
            }
            free += 1;
            link = self.leaves[link as usize].key_lo as u32;
        }
        if free + leaves != h.leaf_bump as usize {
            return Err("leaf pool accounting broken");
        }
        let mut free = 0usize;
        let mut link = h.inner_free;
        while link != NIL {
            if link as usize >= h.inner_bump as usize || free > cap {
                return Err("bad free-inner list");
            }
            free += 1;
            link = self.inners[link as usize].children[0];
        }
        if free + inners != h.inner_bump as usize {
            return Err("inner pool accounting broken");
        }
        Ok(())
    }

    /// Price levels in priority order: (price, total lots, order count).
    pub fn levels(&self) -> Levels<'a> {
        Levels {
            inner: self.iter(),
            pending: None,
        }
    }
}

/// Priority-order iterator with an explicit stack (no allocation).
pub struct SideIter<'a> {
    leaves: &'a [Leaf],
    inners: &'a [Inner],
    dir: usize,
    stack: [u32; MAX_DEPTH],
    depth: usize,
}

impl<'a> SideIter<'a> {
    /// Next leaf in priority order, by reference.
    pub(crate) fn next_leaf(&mut self) -> Option<&'a Leaf> {
        if self.depth == 0 {
            return None;
        }
        self.depth -= 1;
        let mut node = self.stack[self.depth];
        while !is_leaf(node) {
            let inner = &self.inners[node as usize];
            // Depth is bounded by MAX_DEPTH: each level consumes one distinct crit bit.
            self.stack[self.depth] = inner.children[1 - self.dir];
            self.depth += 1;
            node = inner.children[self.dir];
        }
        Some(&self.leaves[index(node)])
    }
}

impl Iterator for SideIter<'_> {
    type Item = Order;

    fn next(&mut self) -> Option<Order> {
        self.next_leaf().map(Order::from_leaf)
    }
}

/// One aggregated price level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub price: u64,
    pub lots: u64,
    pub orders: u32,
}

/// Price-level iterator (L2 depth).
pub struct Levels<'a> {
    inner: SideIter<'a>,
    pending: Option<Order>,
}

impl Iterator for Levels<'_> {
    type Item = Level;

    fn next(&mut self) -> Option<Level> {
        let first = self.pending.take().or_else(|| self.inner.next())?;
        let mut level = Level {
            price: first.price,
            lots: first.lots,
            orders: 1,
        };
        for o in self.inner.by_ref() {
            if o.price != level.price {
                self.pending = Some(o);
                break;
            }
            level.lots = level.lots.saturating_add(o.lots);
            level.orders += 1;
        }
        Some(level)
    }
}

impl<'a> BookSide<'a> {
    pub fn as_ref(&self) -> SideRef<'_> {
        SideRef {
            side: self.side,
            hdr: self.hdr,
            leaves: self.leaves,
            inners: self.inners,
        }
    }

    pub fn side(&self) -> Side {
        self.side
    }

    pub fn len(&self) -> usize {
        self.hdr.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.hdr.count == 0
    }

    pub fn is_full(&self) -> bool {
        self.hdr.count as usize >= self.leaves.len()
    }

    pub(crate) fn best_path(&self) -> Option<LeafPath> {
        let dir = self.side.best_dir();
        walk(self.hdr, self.inners, |_| dir)
    }

    pub(crate) fn worst_path(&self) -> Option<LeafPath> {
        let dir = 1 - self.side.best_dir();
        walk(self.hdr, self.inners, |_| dir)
    }

    /// The best order's leaf: `best_path` without the links a removal needs, for a look.
    pub(crate) fn best_leaf(&self) -> Option<&Leaf> {
        let dir = self.side.best_dir();
        let mut node = self.hdr.root;
        if node == NIL {
            return None;
        }
        while !is_leaf(node) {
            node = self.inners[node as usize].children[dir];
        }
        Some(&self.leaves[index(node)])
    }

    pub(crate) fn find_path(&self, order_id: u128) -> Option<LeafPath> {
        let k = KeyBits::new(order_id);
        let path = walk(self.hdr, self.inners, |n| k.bit(n.bit))?;
        (self.leaves[path.leaf].key() == order_id).then_some(path)
    }

    #[inline(always)]
    pub(crate) fn leaf(&self, idx: usize) -> &Leaf {
        &self.leaves[idx]
    }

    #[inline(always)]
    pub(crate) fn leaf_mut(&mut self, idx: usize) -> &mut Leaf {
        &mut self.leaves[idx]
    }

    /// Whether an order with this key would outrank the side's least aggressive order.
    pub(crate) fn outranks_worst(&self, key: u128) -> bool {
        match self.worst_path() {
            None => true,
            Some(p) => {
                let worst = self.leaves[p.leaf].key();
                match self.side {
                    Side::Bid => key > worst,
                    Side::Ask => key < worst,
                }
            }
        }
    }

    fn alloc_leaf(&mut self) -> usize {
        let head = self.hdr.leaf_free;
        if head != NIL {
            self.hdr.leaf_free = self.leaves[head as usize].key_lo as u32;
            head as usize
        } else {
            let idx = self.hdr.leaf_bump;
            self.hdr.leaf_bump = idx + 1;
            idx as usize
        }
    }

    fn free_leaf(&mut self, idx: usize) {
        self.leaves[idx].key_lo = self.hdr.leaf_free as u64;
        self.hdr.leaf_free = idx as u32;
    }

    fn alloc_inner(&mut self) -> usize {
        let head = self.hdr.inner_free;
        if head != NIL {
            self.hdr.inner_free = self.inners[head as usize].children[0];
            head as usize
        } else {
            let idx = self.hdr.inner_bump;
            self.hdr.inner_bump = idx + 1;
            idx as usize
        }
    }

    fn free_inner(&mut self, idx: usize) {
        self.inners[idx].children[0] = self.hdr.inner_free;
        self.hdr.inner_free = idx as u32;
    }

    /// Inserts a resting order. Fails with `BookFull` or `DuplicateOrderId`, changing nothing.
    pub fn insert(&mut self, leaf: Leaf) -> Result<(), BookError> {
        if self.is_full() {
            return Err(BookError::BookFull);
        }
        let key = leaf.key();
        if self.hdr.root == NIL {
            let idx = self.alloc_leaf();
            self.leaves[idx] = leaf;
            self.hdr.root = idx as u32 | LEAF_TAG;
            self.hdr.count = 1;
            return Ok(());
        }
        // The nearest leaf shares the longest prefix with the key among all leaves. The walk to
        // it records the inner nodes it passes: the new branch goes on that same path (the
        // descent to it takes the same turns), so it is found by scanning the record instead
        // of walking the tree a second time.
        let k = KeyBits::new(key);
        let mut path = [0u32; MAX_DEPTH];
        let mut depth = 0;
        let mut node = self.hdr.root;
        while !is_leaf(node) {
            // Crit bits strictly decrease along a path, so it is at most MAX_DEPTH - 1 deep.
            let Some(slot) = path.get_mut(depth) else {
                return Err(BookError::BookFull);
            };
            *slot = node;
            depth += 1;
            let inner = &self.inners[node as usize];
            node = inner.children[k.bit(inner.bit)];
        }
        let diff = key ^ self.leaves[index(node)].key();
        if diff == 0 {
            return Err(BookError::DuplicateOrderId);
        }
        // The highest differing bit, counted in the half it is in (a 128-bit count is two).
        let crit = match (diff >> 64) as u64 {
            0 => 63 - (diff as u64).leading_zeros(),
            hi => 127 - hi.leading_zeros(),
        };
        // The first node on the path that branches below the critical bit (or the leaf) moves
        // under the new branch; scanned from the bottom, where a new order's crit bit usually is.
        let mut at = depth;
        while at > 0 && self.inners[path[at - 1] as usize].bit < crit {
            at -= 1;
        }
        if at < depth {
            node = path[at];
        }
        let link = match at {
            0 => None,
            _ => {
                let p = path[at - 1];
                Some((p, k.bit(self.inners[p as usize].bit)))
            }
        };
        let leaf_idx = self.alloc_leaf();
        self.leaves[leaf_idx] = leaf;
        let inner_idx = self.alloc_inner();
        let dir = k.bit(crit);
        let mut children = [0u32; 2];
        children[dir] = leaf_idx as u32 | LEAF_TAG;
        children[1 - dir] = node;
        self.inners[inner_idx] = Inner {
            children,
            bit: crit,
        };
        match link {
            None => self.hdr.root = inner_idx as u32,
            Some((p, d)) => self.inners[p as usize].children[d] = inner_idx as u32,
        }
        self.hdr.count += 1;
        Ok(())
    }

    /// Unlinks the leaf at `path` and returns it.
    pub(crate) fn remove_at(&mut self, path: LeafPath) -> Leaf {
        match path.parent {
            None => self.hdr.root = NIL,
            Some((p, d)) => {
                let sibling = self.inners[p as usize].children[1 - d];
                match path.grandparent {
                    None => self.hdr.root = sibling,
                    Some((g, gd)) => self.inners[g as usize].children[gd] = sibling,
                }
                self.free_inner(p as usize);
            }
        }
        let leaf = self.leaves[path.leaf];
        self.free_leaf(path.leaf);
        self.hdr.count -= 1;
        leaf
    }

    /// Removes the order with this id.
    pub fn remove(&mut self, order_id: u128) -> Option<Order> {
        let path = self.find_path(order_id)?;
        Some(Order::from_leaf(&self.remove_at(path)))
    }
}
