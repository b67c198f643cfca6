//! Venus rings (vkCreateRingMESA): a command ring in guest-shared memory served by one host
//! thread per ring.
//!
//! The guest appends commands at `tail` (a free-running byte counter) and publishes `tail`;
//! the thread copies `[head, tail)` out of the buffer (wrapping), executes the commands one by
//! one and publishes `head` after each, which is what the guest polls for replies and space.
//! With no work for `idle_timeout`, the thread sets the IDLE status bit and sleeps until
//! vkNotifyRingMESA. A decode or execution error sets FATAL and ends the thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::dispatch::State;
use crate::shm::Shm;
use crate::wire::Reader;
use crate::VenusError;

pub const STATUS_IDLE: u32 = 0x1;
pub const STATUS_FATAL: u32 = 0x2;
pub const STATUS_ALIVE: u32 = 0x4;

/// Largest ring buffer upstream accepts.
const MAX_BUFFER: u64 = 16 << 20;

/// What vkCreateRingMESA describes, validated.
#[derive(Debug, Clone)]
pub struct RingLayout {
    pub shm: Arc<Shm>,
    pub head: u64,
    pub tail: u64,
    pub status: u64,
    pub buffer: u64,
    pub buffer_size: u32,
    pub extra: u64,
    pub extra_size: u64,
    pub idle_timeout: Duration,
    pub monitor_period: Option<Duration>,
}

/// Raw VkRingCreateInfoMESA fields.
#[derive(Debug, Default, Clone, Copy)]
pub struct RingCreateInfo {
    pub resource_id: u32,
    pub offset: u64,
    pub size: u64,
    pub idle_timeout_ns: u64,
    pub head: u64,
    pub tail: u64,
    pub status: u64,
    pub buffer: u64,
    pub buffer_size: u64,
    pub extra: u64,
    pub extra_size: u64,
    pub monitor_period_us: Option<u32>,
}

const STYPE_RING_CREATE_INFO: i32 = 1_000_384_000;
const STYPE_RING_MONITOR_INFO: i32 = 1_000_384_006;
const STYPE_RING_PRIORITY_INFO: i32 = 1_000_384_007;

impl RingCreateInfo {
    /// Decodes `const VkRingCreateInfoMESA*` (presence marker included).
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, VenusError> {
        if r.u64()? == 0 {
            return Err(VenusError::NullParam("vkCreateRingMESA.pCreateInfo"));
        }
        crate::wire::expect_stype(r, STYPE_RING_CREATE_INFO)?;
        let mut links = Vec::new();
        while r.u64()? != 0 {
            let s = r.i32()?;
            if s != STYPE_RING_MONITOR_INFO && s != STYPE_RING_PRIORITY_INFO || links.len() > 2 {
                return Err(VenusError::UnknownStype(s));
            }
            links.push(s);
        }
        let mut info = Self::default();
        for s in links.iter().rev() {
            let v = r.u32()?;
            if *s == STYPE_RING_MONITOR_INFO {
                info.monitor_period_us = Some(v);
            }
        }
        let _flags = r.u32()?;
        info.resource_id = r.u32()?;
        info.offset = r.u64()?;
        info.size = r.u64()?;
        info.idle_timeout_ns = r.u64()?;
        info.head = r.u64()?;
        info.tail = r.u64()?;
        info.status = r.u64()?;
        info.buffer = r.u64()?;
        info.buffer_size = r.u64()?;
        info.extra = r.u64()?;
        info.extra_size = r.u64()?;
        Ok(info)
    }

    /// Checks the layout against the resource (upstream's rules) and makes offsets absolute.
    pub fn validate(&self, shm: Arc<Shm>) -> Result<RingLayout, VenusError> {
        let bad = |w: &str| VenusError::Invalid(format!("ring layout: {w}"));
        let end = self
            .offset
            .checked_add(self.size)
            .ok_or_else(|| bad("overflow"))?;
        if end > shm.len() as u64 {
            return Err(bad("outside its resource"));
        }
        let regions = [
            (self.head, 4),
            (self.tail, 4),
            (self.status, 4),
            (self.buffer, self.buffer_size),
            (self.extra, self.extra_size),
        ];
        for (i, &(off, len)) in regions.iter().enumerate() {
            if !off.is_multiple_of(4) || off.checked_add(len).is_none_or(|e| e > self.size) {
                return Err(bad("region outside the ring or unaligned"));
            }
            for &(o2, l2) in &regions[i + 1..] {
                if len > 0 && l2 > 0 && off < o2 + l2 && o2 < off + len {
                    return Err(bad("regions overlap"));
                }
            }
        }
        if !self.buffer_size.is_power_of_two() || self.buffer_size > MAX_BUFFER {
            return Err(bad("buffer size not a power of two <= 16 MiB"));
        }
        let layout = RingLayout {
            head: self.offset + self.head,
            tail: self.offset + self.tail,
            status: self.offset + self.status,
            buffer: self.offset + self.buffer,
            buffer_size: self.buffer_size as u32,
            extra: self.offset + self.extra,
            extra_size: self.extra_size,
            idle_timeout: Duration::from_nanos(self.idle_timeout_ns.clamp(10_000, 1_000_000_000)),
            monitor_period: self
                .monitor_period_us
                .map(|us| Duration::from_micros(u64::from(us.max(1000)))),
            shm,
        };
        if layout.shm.atomic_u32(layout.head)?.load(Ordering::Acquire) != 0
            || layout
                .shm
                .atomic_u32(layout.status)?
                .load(Ordering::Acquire)
                != 0
        {
            return Err(bad("head/status not zero at creation"));
        }
        Ok(layout)
    }
}

/// State shared between a ring's thread and the context.
#[derive(Debug, Default)]
pub struct RingShared {
    stop: AtomicBool,
    fatal: AtomicBool,
    notified: Mutex<bool>,
    notify_cond: Condvar,
    vq_seqno: Mutex<u64>,
    vq_cond: Condvar,
}

/// A running ring.
#[derive(Debug)]
pub struct Ring {
    layout: RingLayout,
    shared: Arc<RingShared>,
    thread: Option<JoinHandle<()>>,
}

impl Ring {
    /// Starts the ring's thread.
    pub fn start(
        id: u64,
        layout: RingLayout,
        state: Arc<Mutex<State>>,
    ) -> Result<Self, VenusError> {
        let shared = Arc::new(RingShared::default());
        let thread = {
            let (layout, shared) = (layout.clone(), shared.clone());
            std::thread::Builder::new()
                .name(format!("venus-ring-{id:x}"))
                .spawn(move || run(&layout, &shared, &state))
                .map_err(|e| VenusError::Host(format!("ring thread: {e}")))?
        };
        Ok(Self {
            layout,
            shared,
            thread: Some(thread),
        })
    }

    /// vkNotifyRingMESA: wakes an idle ring.
    pub fn notify(&self) {
        let mut n = self
            .shared
            .notified
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *n = true;
        self.shared.notify_cond.notify_all();
    }

    /// vkSubmitVirtqueueSeqnoMESA.
    pub fn submit_virtqueue_seqno(&self, seqno: u64) {
        let mut s = self
            .shared
            .vq_seqno
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *s = (*s).max(seqno);
        self.shared.vq_cond.notify_all();
        drop(s);
        self.notify();
    }

    /// vkWriteRingExtraMESA.
    pub fn write_extra(&self, offset: u64, value: u32) -> Result<(), VenusError> {
        if offset
            .checked_add(4)
            .is_none_or(|e| e > self.layout.extra_size)
        {
            return Err(VenusError::Invalid("ring extra write out of bounds".into()));
        }
        self.layout
            .shm
            .atomic_u32(self.layout.extra + offset)?
            .store(value, Ordering::Release);
        Ok(())
    }

    /// vkWaitRingSeqnoMESA: waits until the ring's head has reached `seqno` (or it died).
    pub fn wait_seqno(&self, seqno: u64) -> Result<(), VenusError> {
        self.notify();
        let head = self.layout.shm.atomic_u32(self.layout.head)?;
        let target = seqno as u32;
        let start = Instant::now();
        loop {
            let h = head.load(Ordering::Acquire);
            // Free-running u32 counters: reached when target is not ahead of head.
            if h.wrapping_sub(target) as i32 >= 0 {
                return Ok(());
            }
            if self.shared.fatal.load(Ordering::Acquire) || self.thread.is_none() {
                return Err(VenusError::Invalid("waiting on a dead ring".into()));
            }
            if start.elapsed() > Duration::from_secs(60) {
                return Err(VenusError::Invalid("ring seqno wait timed out".into()));
            }
            std::thread::sleep(Duration::from_micros(50));
        }
    }

    /// Whether the ring thread hit a fatal error.
    pub fn is_fatal(&self) -> bool {
        self.shared.fatal.load(Ordering::Acquire)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.notify();
        self.shared.vq_cond.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(layout: &RingLayout, shared: &RingShared, state: &Mutex<State>) {
    if let Err(e) = serve(layout, shared, state) {
        tracing::error!(error = %e, "venus ring is fatal");
        shared.fatal.store(true, Ordering::Release);
        if let Ok(status) = layout.shm.atomic_u32(layout.status) {
            status.fetch_or(STATUS_FATAL, Ordering::AcqRel);
        }
    }
}

const VK_COMMAND_TYPE_WAIT_VIRTQUEUE_SEQNO: u32 = 252;

fn serve(layout: &RingLayout, shared: &RingShared, state: &Mutex<State>) -> Result<(), VenusError> {
    let head = layout.shm.atomic_u32(layout.head)?;
    let tail = layout.shm.atomic_u32(layout.tail)?;
    let status = layout.shm.atomic_u32(layout.status)?;
    let mask = layout.buffer_size - 1;
    let mut cur = head.load(Ordering::Acquire);
    let mut last_work = Instant::now();
    let mut last_alive = Instant::now() - Duration::from_secs(3600);
    let mut spins = 0u32;
    let mut buf = Vec::new();
    loop {
        if shared.stop.load(Ordering::Acquire) {
            return Ok(());
        }
        if let Some(period) = layout.monitor_period {
            if last_alive.elapsed() >= period / 2 {
                status.fetch_or(STATUS_ALIVE, Ordering::AcqRel);
                last_alive = Instant::now();
            }
        }
        let t = tail.load(Ordering::Acquire);
        if t == cur {
            if last_work.elapsed() >= layout.idle_timeout {
                status.fetch_or(STATUS_IDLE, Ordering::AcqRel);
                let mut notified = shared.notified.lock().unwrap_or_else(|e| e.into_inner());
                if tail.load(Ordering::Acquire) == cur && !*notified {
                    let wait = layout
                        .monitor_period
                        .map_or(Duration::from_millis(100), |p| p / 2);
                    notified = shared
                        .notify_cond
                        .wait_timeout(notified, wait)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                let woken = std::mem::take(&mut *notified);
                drop(notified);
                if woken || tail.load(Ordering::Acquire) != cur {
                    status.fetch_and(!STATUS_IDLE, Ordering::AcqRel);
                    last_work = Instant::now();
                    spins = 0;
                }
            } else {
                spins += 1;
                if spins < 16 {
                    std::thread::yield_now();
                } else {
                    let us = 10u64 << (spins - 16).min(6);
                    std::thread::sleep(Duration::from_micros(us));
                }
            }
            continue;
        }
        spins = 0;
        let avail = t.wrapping_sub(cur);
        if avail > layout.buffer_size {
            return Err(VenusError::Invalid(format!(
                "ring tail {t} beyond head {cur}"
            )));
        }
        buf.resize(avail as usize, 0);
        let start = cur & mask;
        let first = (layout.buffer_size - start).min(avail);
        layout
            .shm
            .read(layout.buffer + u64::from(start), &mut buf[..first as usize])?;
        if first < avail {
            layout.shm.read(layout.buffer, &mut buf[first as usize..])?;
        }
        let mut r = Reader::new(&buf);
        while r.remaining() > 0 {
            let mut peek = r.clone();
            if peek.u32()? == VK_COMMAND_TYPE_WAIT_VIRTQUEUE_SEQNO {
                r.u32()?;
                r.u32()?;
                let seqno = r.u64()?;
                let mut s = shared.vq_seqno.lock().unwrap_or_else(|e| e.into_inner());
                while *s < seqno && !shared.stop.load(Ordering::Acquire) {
                    s = shared
                        .vq_cond
                        .wait_timeout(s, Duration::from_millis(100))
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            } else {
                let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                st.execute_one(&mut r)?;
            }
            head.store(cur.wrapping_add(r.position() as u32), Ordering::Release);
        }
        cur = t;
        last_work = Instant::now();
    }
}
