//! Group commit for inbound texts. Every webhook still waits until its own text, and everything it
//! causes, is durable before the provider gets its 200; but texts that arrive while the previous group is
//! being written share the next transaction and its one fsync, instead of queueing for one commit each
//! behind SQLite's single writer.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_util::task::TaskTracker;

use super::{InboundService, InboundText, Receipt};
use crate::storage::{Backend, StoreError};

/// Texts handled in one transaction at most; more wait for the next one.
const MAX_GROUP: usize = 64;

pub(super) type Waiting = (InboundText, oneshot::Sender<Result<Receipt, String>>);

/// Takes inbound texts in and answers each once it is committed.
#[derive(Clone)]
pub struct Intake {
    queue: mpsc::Sender<Waiting>,
}

impl Intake {
    /// Starts the writers. SQLite has one writer anyway: one writer here, in groups. PostgreSQL runs
    /// transactions side by side, so there several writers each take a group; a group costs a handful of
    /// statements whatever its size (see `InboundService::handle_together`). Four writers did best on the
    /// inbound bench, against two, eight, and a transaction per text (BENCHMARKS.md, third round). The
    /// writers run on `tasks`, which the service waits on before it closes the database, and end when the
    /// last handle is dropped.
    pub fn start(service: InboundService, backend: Backend, tasks: &TaskTracker) -> Self {
        let (writers, group_size) = match backend {
            Backend::Sqlite => (1, MAX_GROUP),
            Backend::Postgres => (4, MAX_GROUP),
        };
        let (queue, incoming) = mpsc::channel::<Waiting>(MAX_GROUP * 4);
        let incoming = Arc::new(Mutex::new(incoming));
        for _ in 0..writers {
            let (service, incoming) = (service.clone(), incoming.clone());
            tasks.spawn(async move {
                while let Some(group) = next_group(&incoming, group_size).await {
                    service.handle_group(group).await;
                }
            });
        }
        Self { queue }
    }

    /// Handles one text and returns once it is committed.
    pub async fn receive(&self, text: InboundText) -> Result<Receipt, StoreError> {
        let (done, committed) = oneshot::channel();
        self.queue
            .send((text, done))
            .await
            .map_err(|_| StoreError::GroupCommit("inbound handling has stopped".into()))?;
        committed
            .await
            .map_err(|_| StoreError::GroupCommit("inbound handling stopped before committing".into()))?
            .map_err(StoreError::GroupCommit)
    }
}

/// The first text waiting and whatever arrived with it; `None` once every handle is gone. Writers take turns
/// at the queue, so a group is whole before the next writer looks.
async fn next_group(incoming: &Mutex<mpsc::Receiver<Waiting>>, most: usize) -> Option<Vec<Waiting>> {
    crate::group_commit::next_group(&mut *incoming.lock().await, most).await
}
