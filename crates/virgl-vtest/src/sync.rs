//! vtest sync objects, per-ring timelines and waits (protocol 3+), kept in the server as
//! upstream's `vtest_renderer.c` keeps them.
//!
//! A sync object is a 64-bit counter the client creates, writes and reads. `SUBMIT_CMD2` batches
//! with a ring index queue "set these syncs to these values" behind a context fence on that ring;
//! when the renderer reports the fence retired, the queued values are written. `SYNC_WAIT` hands
//! the client an eventfd that becomes readable once all (or, with `FLAG_ANY`, one) of the awaited
//! points are reached.
//!
//! Limits keep a hostile client from growing server memory without bound.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;
use std::time::{Duration, Instant};

use nix::sys::eventfd::{EfdFlags, EventFd};
use virgl_protocol::vtest::{SyncPoint, MAX_TIMELINE_COUNT, SYNC_WAIT_FLAG_ANY};

use crate::{VtestError, VtestResult};

/// Most sync objects one client may hold.
pub const MAX_SYNCS: usize = 1 << 16;
/// Most waits one client may have pending.
pub const MAX_WAITS: usize = 4096;
/// Most queued submits per ring.
pub const MAX_QUEUED_SUBMITS: usize = 1 << 16;

type SyncRef = Rc<Cell<u64>>;

/// Sync values to write once a fence on a ring retires.
struct TimelineSubmit {
    fence_id: u64,
    points: Vec<(SyncRef, u64)>,
}

/// A pending `SYNC_WAIT`.
struct PendingWait {
    /// Our duplicate of the eventfd handed to the client (same counter).
    fd: OwnedFd,
    any: bool,
    valid_before: Option<Instant>,
    /// Points not reached yet; reached ones are removed.
    points: Vec<(SyncRef, u64)>,
    reached: usize,
}

/// Syncs, timelines and waits of one client context.
pub struct SyncState {
    table: HashMap<u32, SyncRef>,
    next_id: u32,
    rings: Vec<VecDeque<TimelineSubmit>>,
    waits: Vec<PendingWait>,
}

impl Default for SyncState {
    fn default() -> Self {
        Self {
            table: HashMap::new(),
            next_id: 1,
            rings: (0..MAX_TIMELINE_COUNT).map(|_| VecDeque::new()).collect(),
            waits: Vec::new(),
        }
    }
}

fn signal_eventfd(fd: impl AsFd) {
    // An eventfd counter only fails to accept 1 when it is about to overflow, which still
    // leaves it readable: the wait is signalled either way.
    let _ = nix::unistd::write(fd, &1u64.to_ne_bytes());
}

impl SyncState {
    /// `SYNC_CREATE`: a new sync object at `value`; returns its id.
    pub fn create(&mut self, value: u64) -> VtestResult<u32> {
        if self.table.len() >= MAX_SYNCS {
            return Err(VtestError::rejected("SYNC_CREATE", "too many sync objects"));
        }
        let mut id = self.next_id;
        while id == 0 || self.table.contains_key(&id) {
            id = id.wrapping_add(1);
        }
        self.next_id = id.wrapping_add(1);
        self.table.insert(id, Rc::new(Cell::new(value)));
        Ok(id)
    }

    /// `SYNC_UNREF`: forgets the id; queued submits and waits keep the object alive.
    pub fn unref(&mut self, id: u32) {
        self.table.remove(&id);
    }

    /// `SYNC_READ`.
    pub fn read(&self, id: u32) -> VtestResult<u64> {
        self.table
            .get(&id)
            .map(|s| s.get())
            .ok_or_else(|| VtestError::rejected("SYNC_READ", format!("unknown sync {id}")))
    }

    /// `SYNC_WRITE`: sets the value and wakes waits it satisfies.
    pub fn write(&mut self, id: u32, value: u64) -> VtestResult<()> {
        let sync = self
            .table
            .get(&id)
            .cloned()
            .ok_or_else(|| VtestError::rejected("SYNC_WRITE", format!("unknown sync {id}")))?;
        self.signal(&sync, value);
        Ok(())
    }

    fn lookup(&self, cmd: &'static str, points: &[SyncPoint]) -> VtestResult<Vec<(SyncRef, u64)>> {
        points
            .iter()
            .map(|p| {
                self.table
                    .get(&p.sync_id)
                    .map(|s| (s.clone(), p.value))
                    .ok_or_else(|| VtestError::rejected(cmd, format!("unknown sync {}", p.sync_id)))
            })
            .collect()
    }

    /// Sets a sync's value as upstream's `vtest_signal_sync` does: going backwards just stores
    /// the value; going forwards also wakes the waits it completes.
    fn signal(&mut self, sync: &SyncRef, value: u64) {
        let old = sync.replace(value);
        if old >= value {
            return;
        }
        let now = Instant::now();
        self.waits.retain_mut(|wait| {
            if wait.valid_before.is_some_and(|t| t < now) {
                return false;
            }
            let before = wait.points.len();
            wait.points
                .retain(|(s, want)| !(Rc::ptr_eq(s, sync) && *want <= value));
            wait.reached += before - wait.points.len();
            let ready = wait.points.is_empty() || (wait.any && wait.reached > 0);
            if ready {
                signal_eventfd(&wait.fd);
            }
            !ready
        });
    }

    /// Signals points directly (a `SUBMIT_CMD2` batch without a ring).
    pub fn signal_points(&mut self, cmd: &'static str, points: &[SyncPoint]) -> VtestResult<()> {
        for (sync, value) in self.lookup(cmd, points)? {
            self.signal(&sync, value);
        }
        Ok(())
    }

    /// `SYNC_WAIT`: returns the eventfd to hand to the client (already signalled when the wait
    /// is satisfied at once). The server keeps its own reference while the wait is pending.
    pub fn wait(
        &mut self,
        flags: u32,
        timeout_ms: u32,
        points: &[SyncPoint],
    ) -> VtestResult<EventFd> {
        let resolved = self.lookup("SYNC_WAIT", points)?;
        let fd = EventFd::from_value_and_flags(0, EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)
            .map_err(|e| VtestError::errno("eventfd", e))?;
        // Points already reached are skipped, as upstream does.
        let pending: Vec<(SyncRef, u64)> = resolved
            .into_iter()
            .filter(|(s, want)| s.get() < *want)
            .collect();
        let any = flags & SYNC_WAIT_FLAG_ANY != 0;
        let ready = pending.is_empty() || (any && pending.len() < points.len());
        if ready {
            signal_eventfd(&fd);
            return Ok(fd);
        }
        if timeout_ms == 0 {
            return Ok(fd);
        }
        if self.waits.len() >= MAX_WAITS {
            return Err(VtestError::rejected("SYNC_WAIT", "too many pending waits"));
        }
        // Upstream treats timeouts above INT32_MAX ms as infinite.
        let valid_before = (timeout_ms <= i32::MAX as u32)
            .then(|| Instant::now() + Duration::from_millis(u64::from(timeout_ms)));
        let keep = fd
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| VtestError::io("dup", e))?;
        self.waits.push(PendingWait {
            fd: keep,
            any,
            valid_before,
            points: pending,
            reached: 0,
        });
        Ok(fd)
    }

    /// Queues `points` behind fence `fence_id` on `ring`.
    pub fn queue(&mut self, ring: u32, fence_id: u64, points: &[SyncPoint]) -> VtestResult<()> {
        let resolved = self.lookup("SUBMIT_CMD2", points)?;
        let queue = self
            .rings
            .get_mut(ring as usize)
            .ok_or_else(|| VtestError::rejected("SUBMIT_CMD2", format!("ring {ring} too large")))?;
        if queue.len() >= MAX_QUEUED_SUBMITS {
            return Err(VtestError::rejected(
                "SUBMIT_CMD2",
                "too many submits in flight",
            ));
        }
        queue.push_back(TimelineSubmit {
            fence_id,
            points: resolved,
        });
        Ok(())
    }

    /// A fence retired on `ring`: every submit queued up to it is complete (fences on a ring
    /// retire in order, and a mergeable fence stands for the ones before it).
    pub fn retire(&mut self, ring: u32, fence_id: u64) {
        let Some(queue) = self.rings.get_mut(ring as usize) else {
            return;
        };
        let mut done = Vec::new();
        while queue.front().is_some_and(|s| s.fence_id <= fence_id) {
            done.extend(queue.pop_front().map(|s| s.points).unwrap_or_default());
        }
        for (sync, value) in done {
            self.signal(&sync, value);
        }
    }

    /// Whether any submit still waits for its fence.
    pub fn has_queued(&self) -> bool {
        self.rings.iter().any(|q| !q.is_empty())
    }

    /// Drops waits whose timeout passed (their fd simply never becomes readable).
    pub fn collect_expired(&mut self) {
        let now = Instant::now();
        self.waits
            .retain(|w| w.valid_before.is_none_or(|t| t >= now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readable(fd: &EventFd) -> bool {
        let mut fds = [nix::poll::PollFd::new(
            fd.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO).unwrap() == 1
    }

    #[test]
    fn wait_all_and_any() {
        let mut s = SyncState::default();
        let a = s.create(0).unwrap();
        let b = s.create(5).unwrap();
        let all = s
            .wait(
                0,
                u32::MAX,
                &[
                    SyncPoint {
                        sync_id: a,
                        value: 2,
                    },
                    SyncPoint {
                        sync_id: b,
                        value: 7,
                    },
                ],
            )
            .unwrap();
        let any = s
            .wait(
                SYNC_WAIT_FLAG_ANY,
                1000,
                &[
                    SyncPoint {
                        sync_id: a,
                        value: 2,
                    },
                    SyncPoint {
                        sync_id: b,
                        value: 7,
                    },
                ],
            )
            .unwrap();
        assert!(!readable(&all) && !readable(&any));
        s.write(a, 3).unwrap();
        assert!(!readable(&all) && readable(&any));
        s.write(b, 7).unwrap();
        assert!(readable(&all));
        assert_eq!(s.read(b).unwrap(), 7);
        // Already reached: signalled at once.
        let done = s
            .wait(
                0,
                0,
                &[SyncPoint {
                    sync_id: a,
                    value: 1,
                }],
            )
            .unwrap();
        assert!(readable(&done));
        assert!(s
            .wait(
                0,
                0,
                &[SyncPoint {
                    sync_id: 99,
                    value: 1
                }]
            )
            .is_err());
    }

    #[test]
    fn timeline_retire_signals_in_order() {
        let mut s = SyncState::default();
        let a = s.create(0).unwrap();
        s.queue(
            1,
            10,
            &[SyncPoint {
                sync_id: a,
                value: 1,
            }],
        )
        .unwrap();
        s.queue(
            1,
            11,
            &[SyncPoint {
                sync_id: a,
                value: 2,
            }],
        )
        .unwrap();
        let w = s
            .wait(
                0,
                u32::MAX,
                &[SyncPoint {
                    sync_id: a,
                    value: 2,
                }],
            )
            .unwrap();
        assert!(s.has_queued());
        s.retire(1, 10);
        assert_eq!(s.read(a).unwrap(), 1);
        assert!(!readable(&w));
        // A later (merged) fence retires everything before it.
        s.queue(1, 12, &[]).unwrap();
        s.retire(1, 12);
        assert_eq!(s.read(a).unwrap(), 2);
        assert!(readable(&w));
        assert!(!s.has_queued());
        assert!(s.queue(64, 1, &[]).is_err());
    }

    #[test]
    fn unref_keeps_queued_objects_alive() {
        let mut s = SyncState::default();
        let a = s.create(0).unwrap();
        s.queue(
            0,
            1,
            &[SyncPoint {
                sync_id: a,
                value: 4,
            }],
        )
        .unwrap();
        s.unref(a);
        s.retire(0, 1);
        assert!(s.read(a).is_err());
    }
}
