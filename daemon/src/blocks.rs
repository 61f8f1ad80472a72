//! Blocked clients: MACs the server ignores, for a while or until unblocked.

use std::collections::HashMap;

use crate::addr::MacAddr;
use crate::lease::UnixTime;

/// One blocked MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub mac: MacAddr,
    pub since: UnixTime,
    /// When the block lifts by itself; `None`: never.
    pub until: Option<UnixTime>,
}

impl Block {
    /// Whether the block holds at `now`.
    pub fn is_active(&self, now: UnixTime) -> bool {
        self.until.is_none_or(|u| u > now)
    }
}

/// The block list.
#[derive(Debug, Clone, Default)]
pub struct Blocklist(HashMap<MacAddr, Block>);

impl Blocklist {
    /// Builds the list from stored blocks.
    pub fn from_blocks(blocks: impl IntoIterator<Item = Block>) -> Self {
        Blocklist(blocks.into_iter().map(|b| (b.mac, b)).collect())
    }

    /// Whether `mac` is blocked at `now`.
    pub fn is_blocked(&self, mac: &MacAddr, now: UnixTime) -> bool {
        self.0.get(mac).is_some_and(|b| b.is_active(now))
    }

    /// The block on `mac`, active or run out.
    pub fn get(&self, mac: &MacAddr) -> Option<&Block> {
        self.0.get(mac)
    }

    /// Adds or replaces a block.
    pub fn insert(&mut self, b: Block) {
        self.0.insert(b.mac, b);
    }

    /// Lifts a block.
    pub fn remove(&mut self, mac: &MacAddr) -> Option<Block> {
        self.0.remove(mac)
    }

    /// Every block, active or run out.
    pub fn iter(&self) -> impl Iterator<Item = &Block> {
        self.0.values()
    }

    /// Blocks that have run out at `now`.
    pub fn expired(&self, now: UnixTime) -> Vec<MacAddr> {
        self.0
            .values()
            .filter(|b| !b.is_active(now))
            .map(|b| b.mac)
            .collect()
    }
}
