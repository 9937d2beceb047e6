//! Group commit for provider acceptances. Every sender waits until its own acceptance is durable, so the
//! at-least-once window stays "the provider call in flight", but concurrent senders share one transaction
//! and one fsync instead of paying one each: with `synchronous=FULL` the per-commit fsync is otherwise the
//! wall for dispatch throughput.

use tokio::sync::{mpsc, oneshot};

use crate::storage::{SentRecord, Store, StoreError};

/// Acceptances written together at most; more wait for the next commit.
const MAX_GROUP: usize = 256;

type Waiting = (SentRecord, oneshot::Sender<Result<(), String>>);

#[derive(Clone)]
pub struct SentRecorder {
    queue: mpsc::Sender<Waiting>,
}

impl SentRecorder {
    /// Starts the writer. It ends when the last recorder handle is dropped.
    pub fn start(store: Store) -> Self {
        let (queue, mut incoming) = mpsc::channel::<Waiting>(MAX_GROUP * 4);
        tokio::spawn(async move {
            while let Some(first) = incoming.recv().await {
                // Whatever arrived while the previous commit was running goes into this one.
                let mut group = vec![first];
                while group.len() < MAX_GROUP {
                    match incoming.try_recv() {
                        Ok(next) => group.push(next),
                        Err(_) => break,
                    }
                }
                let records: Vec<SentRecord> = group.iter().map(|(record, _)| record.clone()).collect();
                let outcome = store
                    .mark_sent(&records)
                    .await
                    .map_err(|err| format!("{err}: {:?}", std::error::Error::source(&err)));
                for (_, done) in group {
                    let _ = done.send(outcome.clone());
                }
            }
        });
        Self { queue }
    }

    /// Records one acceptance and returns once it is committed.
    pub async fn record(&self, record: SentRecord) -> Result<(), StoreError> {
        let (done, committed) = oneshot::channel();
        self.queue
            .send((record, done))
            .await
            .map_err(|_| StoreError::GroupCommit("the recorder has stopped".into()))?;
        committed
            .await
            .map_err(|_| StoreError::GroupCommit("the recorder stopped before committing".into()))?
            .map_err(StoreError::GroupCommit)
    }
}
