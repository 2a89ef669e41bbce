//! Ordered parallel batches for the batch commands: read a batch of items,
//! work on it on every core, write the results in input order. While one
//! batch is worked on, the previous one is written and the next one read
//! (a task beside the workers), so reading and writing overlap the work and
//! at most three batches are in memory, however long the input.

use rayon::prelude::*;

/// Feed every batch `read` returns (an empty one ends the input) through
/// `work`, item by item on rayon's pool, and hand each batch's results to
/// `write` in input order.
///
/// `read` and `write` run on one thread at a time, in order. An error from
/// `read` stops the run once every batch read before it is written; an
/// error from `write` stops it after the batch in progress.
pub fn ordered<T, R>(
    mut read: impl FnMut() -> anyhow::Result<Vec<T>> + Send,
    work: impl Fn(T) -> R + Sync,
    mut write: impl FnMut(Vec<R>) -> anyhow::Result<()> + Send,
) -> anyhow::Result<()>
where
    T: Send,
    R: Send,
{
    let mut batch = read()?;
    let mut done: Vec<R> = Vec::new();
    while !batch.is_empty() {
        let todo = std::mem::take(&mut batch);
        let finished = std::mem::take(&mut done);
        let (results, next) = rayon::join(
            || todo.into_par_iter().map(&work).collect::<Vec<R>>(),
            || -> anyhow::Result<Vec<T>> {
                write(finished)?;
                read()
            },
        );
        done = results;
        batch = match next {
            Ok(batch) => batch,
            Err(error) => {
                // What was read before the error is written.
                write(done)?;
                return Err(error);
            }
        };
    }
    write(done)
}

/// How many items a batch holds: enough to keep every core busy while the
/// next batch is read.
pub fn batch_len(per_thread: usize) -> usize {
    per_thread * rayon::current_num_threads().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_out_in_input_order() {
        let mut next = 0u32;
        let mut out = Vec::new();
        ordered(
            || {
                let batch: Vec<u32> = (next..(next + 7).min(100)).collect();
                next += batch.len() as u32;
                Ok(batch)
            },
            |n| {
                // Uneven work, so that items finish out of order.
                std::thread::sleep(std::time::Duration::from_micros(u64::from(100 - n) * 10));
                n * 2
            },
            |results| {
                out.extend(results);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(out, (0..100).map(|n| n * 2).collect::<Vec<_>>());
    }

    #[test]
    fn a_write_error_stops_the_run() {
        let mut batches = 0;
        let result = ordered(
            || {
                batches += 1;
                Ok(if batches < 10 { vec![1] } else { vec![] })
            },
            |n: i32| n,
            |results| {
                if results.is_empty() {
                    Ok(())
                } else {
                    anyhow::bail!("disk full")
                }
            },
        );
        assert!(result.unwrap_err().to_string().contains("disk full"));
        assert!(batches < 10);
    }
}
