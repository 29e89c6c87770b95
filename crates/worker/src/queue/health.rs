//! What the worker's probes report. Ready: connected to the broker with the
//! consumer running, so it can take work. Live: the consume loop still turns,
//! and work in hand still moves (a task taken or finished, a page committed)
//! within `worker.stall_timeout_secs`; a hung renderer or engine fails it, the
//! pod restarts and the broker redelivers the unacked tasks.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The consume loop wakes at least this often ([`Health::beat`]).
pub const BEAT_EVERY: Duration = Duration::from_secs(5);
/// Longer than a reconnect's backoff (30 s) plus its bounded set-up (30 s).
const LOOP_STALL: Duration = Duration::from_secs(90);

pub struct Health {
    started: Instant,
    stall_after: Duration,
    consuming: AtomicBool,
    stopping: AtomicBool,
    in_hand: AtomicUsize,
    /// Milliseconds after `started` of the consume loop's last turn.
    beat_ms: AtomicU64,
    /// Milliseconds after `started` of the last task taken or finished, or page committed.
    progress_ms: AtomicU64,
}

impl Health {
    pub fn new(stall_after: Duration) -> Self {
        Self {
            started: Instant::now(),
            stall_after,
            consuming: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            in_hand: AtomicUsize::new(0),
            beat_ms: AtomicU64::new(0),
            progress_ms: AtomicU64::new(0),
        }
    }

    fn millis(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_millis() as u64
    }

    /// The consume loop (or the reconnect loop around it) is turning.
    pub fn beat(&self) {
        self.beat_ms
            .store(self.millis(Instant::now()), Ordering::Relaxed);
    }

    /// A page was committed.
    pub fn progress(&self) {
        self.progress_ms
            .store(self.millis(Instant::now()), Ordering::Relaxed);
    }

    pub fn set_consuming(&self, consuming: bool) {
        self.consuming.store(consuming, Ordering::Relaxed);
    }

    /// On SIGTERM: not ready any more, and the drain (bounded by
    /// `worker.drain_timeout_secs`) is not a stalled loop.
    pub fn set_stopping(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.consuming.store(false, Ordering::Relaxed);
    }

    /// Tasks in hand now; a change means one was taken or finished.
    pub fn set_in_hand(&self, tasks: usize) {
        if self.in_hand.swap(tasks, Ordering::Relaxed) != tasks {
            self.progress();
        }
    }

    pub fn ready(&self) -> bool {
        self.consuming.load(Ordering::Relaxed)
    }

    pub fn live(&self) -> Result<(), String> {
        self.live_at(Instant::now())
    }

    fn live_at(&self, now: Instant) -> Result<(), String> {
        let now = self.millis(now);
        let since = |field: &AtomicU64| {
            Duration::from_millis(now.saturating_sub(field.load(Ordering::Relaxed)))
        };
        let quiet = since(&self.beat_ms);
        if !self.stopping.load(Ordering::Relaxed) && quiet > LOOP_STALL {
            return Err(format!(
                "the consume loop has not run for {}s",
                quiet.as_secs()
            ));
        }
        let tasks = self.in_hand.load(Ordering::Relaxed);
        let idle = since(&self.progress_ms);
        if tasks > 0 && idle > self.stall_after {
            return Err(format!(
                "{tasks} tasks in hand and no page or task finished for {}s",
                idle.as_secs()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STALL: Duration = Duration::from_secs(600);

    /// Liveness `secs` after start.
    fn at(h: &Health, secs: u64) -> Result<(), String> {
        h.live_at(h.started + Duration::from_secs(secs))
    }

    /// Pretends `field` was last touched `secs` after start.
    fn touched(field: &AtomicU64, secs: u64) {
        field.store(secs * 1000, Ordering::Relaxed);
    }

    #[test]
    fn ready_only_while_consuming() {
        let h = Health::new(STALL);
        assert!(!h.ready());
        h.set_consuming(true);
        assert!(h.ready());
        h.set_stopping();
        assert!(!h.ready());
    }

    #[test]
    fn idle_is_alive_however_long_while_the_loop_turns() {
        let h = Health::new(STALL);
        touched(&h.beat_ms, 3600);
        assert_eq!(at(&h, 3600), Ok(()));
    }

    #[test]
    fn work_in_hand_without_progress_past_the_bound_is_not_alive() {
        let h = Health::new(STALL);
        // Taking the task counts as progress: the clock starts now.
        h.set_in_hand(1);
        touched(&h.beat_ms, 601);
        assert_eq!(at(&h, 599), Ok(()));
        let err = at(&h, 601).expect_err("stuck for 601 s");
        assert!(err.contains("1 tasks in hand"), "{err}");
        h.set_in_hand(0);
        assert_eq!(at(&h, 601), Ok(()), "nothing in hand is never stuck");
    }

    #[test]
    fn a_committed_page_resets_the_stall_clock() {
        let h = Health::new(STALL);
        h.in_hand.store(2, Ordering::Relaxed);
        touched(&h.beat_ms, 700);
        assert!(at(&h, 700).is_err(), "no progress for 700 s");
        touched(&h.progress_ms, 690);
        assert_eq!(at(&h, 700), Ok(()));
    }

    #[test]
    fn a_dead_consume_loop_is_not_alive_unless_stopping() {
        let h = Health::new(STALL);
        assert_eq!(at(&h, 60), Ok(()));
        let err = at(&h, 91).expect_err("no beat for 91 s");
        assert!(err.contains("consume loop"), "{err}");
        h.set_stopping();
        assert_eq!(at(&h, 91), Ok(()));
    }
}
