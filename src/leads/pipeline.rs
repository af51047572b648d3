//! An ordered parallel map over the chunks of a lead file: one thread cuts
//! the input into chunks, `threads` workers process them, and the caller
//! consumes the results in input order. Channels are bounded, so memory
//! holds a few chunks per worker whatever the size of the file.

use std::collections::BTreeMap;
use std::io::Read;

use super::chunks::{Chunk, SplitError, Splitter};

/// Target size of a chunk: large enough that the per-chunk overhead
/// vanishes, small enough that both cores get work on modest files.
pub const CHUNK_BYTES: usize = 1 << 20;

/// Run `work` (one instance per worker thread, made by `make_worker`) over
/// every chunk, and `consume` over the results in input order. `consume`
/// returns false to stop early (the rest of the input is not read).
/// `progress` is called with the bytes read so far.
pub fn run<R, W, T>(
    mut splitter: Splitter<R>,
    threads: usize,
    make_worker: impl Fn() -> W + Sync,
    mut consume: impl FnMut(T) -> bool,
    progress: impl Fn(u64) + Send,
) -> Result<(), SplitError>
where
    R: Read + Send,
    W: FnMut(&Chunk) -> T,
    T: Send,
{
    let threads = threads.max(1);
    std::thread::scope(|scope| {
        let (chunk_tx, chunk_rx) = crossbeam_channel::bounded::<Chunk>(threads * 2);
        let (out_tx, out_rx) = crossbeam_channel::bounded::<(u64, T)>(threads * 2);
        let reader = scope.spawn(move || -> Result<(), SplitError> {
            while let Some(chunk) = splitter.next_chunk(CHUNK_BYTES)? {
                progress(splitter.consumed);
                if chunk_tx.send(chunk).is_err() {
                    break;
                }
            }
            Ok(())
        });
        for _ in 0..threads {
            let (rx, tx) = (chunk_rx.clone(), out_tx.clone());
            let make_worker = &make_worker;
            std::thread::Builder::new()
                // Evaluation recurses through nested conditions and criteria.
                .stack_size(64 << 20)
                .spawn_scoped(scope, move || {
                    let mut work = make_worker();
                    for chunk in rx {
                        let result = work(&chunk);
                        if tx.send((chunk.seq, result)).is_err() {
                            break;
                        }
                    }
                })
                .expect("spawning a worker thread");
        }
        drop((chunk_rx, out_tx));
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        'consume: for (seq, result) in out_rx.iter() {
            pending.insert(seq, result);
            while let Some(result) = pending.remove(&next) {
                next += 1;
                if !consume(result) {
                    break 'consume;
                }
            }
        }
        drop(out_rx);
        reader.join().expect("the reader thread does not panic")
    })
}
