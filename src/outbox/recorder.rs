//! Group commit for provider acceptances: concurrent senders share one transaction and one fsync instead
//! of paying one each, since with durable commits the fsync is otherwise the wall for dispatch throughput.
//! A sender does not wait for the commit before its next provider call; the dispatcher bounds how many
//! acceptances wait and does not finish a run before they are all durable.

use tokio::sync::{mpsc, oneshot};
use tokio_util::task::TaskTracker;

use crate::storage::{SentRecord, Store, StoreError};

/// Acceptances written together at most; more wait for the next commit.
const MAX_GROUP: usize = 256;

type Waiting = (SentRecord, oneshot::Sender<Result<(), String>>);

#[derive(Clone)]
pub struct SentRecorder {
    queue: mpsc::Sender<Waiting>,
}

impl SentRecorder {
    /// Starts the writer on `tasks`, which the service waits on before it closes the database. The writer
    /// ends when the last recorder handle is dropped, after writing what it was given.
    pub fn start(store: Store, tasks: &TaskTracker) -> Self {
        let (queue, mut incoming) = mpsc::channel::<Waiting>(MAX_GROUP * 4);
        tasks.spawn(async move {
            // Whatever arrived while the previous commit was running goes into this one.
            while let Some(group) = crate::group_commit::next_group(&mut incoming, MAX_GROUP).await {
                let records: Vec<SentRecord> = group.iter().map(|(record, _)| record.clone()).collect();
                match record(&store, &records).await {
                    Ok(()) => {
                        for (_, done) in group {
                            let _ = done.send(Ok(()));
                        }
                    }
                    // One row the database refuses must not leave the whole group to be sent again: each
                    // is written on its own, and only the ones that fail again stay unrecorded.
                    Err(_) if group.len() > 1 => {
                        for (record_alone, done) in group {
                            let _ = done.send(record(&store, std::slice::from_ref(&record_alone)).await);
                        }
                    }
                    Err(err) => {
                        for (_, done) in group {
                            let _ = done.send(Err(err.clone()));
                        }
                    }
                }
            }
        });
        Self { queue }
    }

    /// Queues one acceptance for the next commit. The sender can make its next provider call meanwhile;
    /// [`Committed::wait`] says when this one is durable.
    pub async fn submit(&self, record: SentRecord) -> Result<Committed, StoreError> {
        let (done, committed) = oneshot::channel();
        self.queue
            .send((record, done))
            .await
            .map_err(|_| StoreError::GroupCommit("the recorder has stopped".into()))?;
        Ok(Committed(committed))
    }
}

/// Writes acceptances in one commit, logging any text the provider gave an id it had already given.
async fn record(store: &Store, records: &[SentRecord]) -> Result<(), String> {
    let repeated = store
        .mark_sent(records)
        .await
        .map_err(|err| format!("{err}: {:?}", std::error::Error::source(&err)))?;
    for outbox_id in repeated {
        tracing::warn!(
            outbox_id,
            "anomaly: the provider answered with an id another text already has; recorded as sent without it"
        );
    }
    Ok(())
}

/// An acceptance on its way to the database.
pub struct Committed(oneshot::Receiver<Result<(), String>>);

impl Committed {
    pub async fn wait(self) -> Result<(), StoreError> {
        self.0
            .await
            .map_err(|_| StoreError::GroupCommit("the recorder stopped before committing".into()))?
            .map_err(StoreError::GroupCommit)
    }
}
