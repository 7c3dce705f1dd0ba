//! Snapshots taken while threads exit count each thread once: live, or folded into the exited
//! threads' aggregate.

mod functions {
    use crate::site::{Site, SiteKind};
    use std::sync::Barrier;

    static EXITING: Site = Site::new("exiting_thread_call", "t", "f", 1, SiteKind::Sync);

    fn calls_of(p: &crate::Profile) -> (u64, u64) {
        p.function("exiting_thread_call")
            .map_or((0, 0), |f| (f.calls, f.histogram.count()))
    }

    /// Snapshots taken while threads exit see each exiting thread's calls exactly once: in
    /// its own row until it has folded into the exited threads' figures, there after.
    #[test]
    fn no_thread_is_lost_or_counted_twice_while_threads_exit() {
        const ROUNDS: u64 = 40;
        const THREADS: u64 = 6;
        const CALLS: u64 = 300;
        let mut expected = 0;
        let mut snapshots = 0;
        for _ in 0..ROUNDS {
            // The workers make all their calls, wait until every one has, then exit together
            // while this thread takes snapshots.
            let done = Barrier::new(THREADS as usize + 1);
            std::thread::scope(|s| {
                let workers: Vec<_> = (0..THREADS)
                    .map(|_| {
                        s.spawn(|| {
                            for _ in 0..CALLS {
                                let _g = crate::recorder::enter(&EXITING);
                            }
                            done.wait();
                        })
                    })
                    .collect();
                done.wait();
                expected += THREADS * CALLS;
                loop {
                    let all_gone = workers.iter().all(|w| w.is_finished());
                    let p = crate::snapshot::collect(1);
                    snapshots += 1;
                    assert_eq!(calls_of(&p), (expected, expected), "snapshot {snapshots}");
                    if all_gone {
                        break;
                    }
                }
                // A finished closure is not yet an exited thread: joining waits for its
                // thread-locals to be torn down, the fold with them.
                for w in workers {
                    w.join().expect("worker");
                }
            });
        }
        // Every worker has exited: its figures are in the exited threads' row.
        let p = crate::snapshot::collect(1);
        assert_eq!(calls_of(&p), (expected, expected));
        let row = p
            .threads
            .iter()
            .find(|t| t.is_exited_threads())
            .expect("the exited threads' row");
        assert!(row.exited_threads >= ROUNDS * THREADS, "{row:?}");
        assert!(row.calls >= expected, "{row:?}");
        assert!(snapshots >= ROUNDS);
    }
}

mod stages {
    use crate::profile::StageKind;
    use crate::stage::{StageSite, call, collect};
    use std::sync::Barrier;

    static EXITING: StageSite = StageSite::new("exiting_eager", "t", "f", 1, StageKind::Eager);

    fn invocations() -> (u64, u64) {
        let (stages, _) = collect(1);
        stages
            .iter()
            .find(|s| s.name == "exiting_eager")
            .map_or((0, 0), |s| (s.invocations, s.records_out))
    }

    /// As the function recorder's test: stage figures of threads exiting while snapshots are
    /// taken are counted once.
    #[test]
    fn no_thread_is_lost_or_counted_twice_while_threads_exit() {
        const ROUNDS: u64 = 30;
        const THREADS: u64 = 6;
        const CALLS: u64 = 50;
        let mut expected = 0;
        for _ in 0..ROUNDS {
            let done = Barrier::new(THREADS as usize + 1);
            std::thread::scope(|s| {
                let workers: Vec<_> = (0..THREADS)
                    .map(|_| {
                        s.spawn(|| {
                            for _ in 0..CALLS {
                                call(&EXITING, 3).finish(&[1u8, 2]);
                            }
                            done.wait();
                        })
                    })
                    .collect();
                done.wait();
                expected += THREADS * CALLS;
                loop {
                    let all_gone = workers.iter().all(|w| w.is_finished());
                    assert_eq!(invocations(), (expected, 2 * expected));
                    if all_gone {
                        break;
                    }
                }
                for w in workers {
                    w.join().expect("worker");
                }
            });
        }
        assert_eq!(invocations(), (expected, 2 * expected));
    }
}
