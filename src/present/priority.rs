//! Lower scheduling priority for the viewer's background threads, so the UI thread and the
//! renderer (a software rasteriser's threads on machines without a GPU) win the CPU when
//! inference keeps every core busy.

/// The nice value of background workers: below the UI, but not so low that other processes
/// at normal priority starve inference.
pub const WORKER_NICE: i32 = 2;

/// Lowers the calling thread's priority to `nice` unless it is already lower (best effort: an
/// error only means it runs at its old priority). Threads it spawns afterwards (e.g. ONNX
/// Runtime's pool) inherit it.
pub fn lower_current_thread(nice: i32) {
    #[cfg(target_os = "linux")]
    {
        // On Linux, PRIO_PROCESS with a thread id applies to that thread only.
        let tid = rustix::thread::gettid();
        if current_thread_nice().is_some_and(|n| n < nice) {
            rustix::process::setpriority_process(Some(tid), nice).ok();
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// The calling thread's nice value, if it can be read.
pub fn current_thread_nice() -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).ok()
    }
    #[cfg(not(target_os = "linux"))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowers_only_the_calling_thread() {
        let before = current_thread_nice();
        let named = |name: &str| std::thread::Builder::new().name(name.to_owned());
        let (inside, child) = named("nice-worker")
            .spawn(move || {
                lower_current_thread(WORKER_NICE);
                let inside = current_thread_nice();
                let child =
                    named("nice-child").spawn(current_thread_nice).expect("spawn").join().expect("child thread");
                (inside, child)
            })
            .expect("spawn")
            .join()
            .expect("worker thread");
        if cfg!(target_os = "linux") {
            assert_eq!(inside, Some(WORKER_NICE.max(before.unwrap_or(0))));
            assert_eq!(child, inside, "threads spawned afterwards inherit it");
            assert_eq!(current_thread_nice(), before, "the caller is untouched");
        }
    }
}
