//! Group commit: whoever writes for many concurrent callers (inbound texts, provider acceptances) takes the
//! first one waiting and whatever else has queued meanwhile, and writes them in one transaction, so they share
//! its one fsync instead of waiting in line for one each.

use tokio::sync::mpsc;

/// The first item waiting and whatever arrived with it, up to `most`; `None` once every sender is gone.
pub async fn next_group<T>(incoming: &mut mpsc::Receiver<T>, most: usize) -> Option<Vec<T>> {
    let first = incoming.recv().await?;
    let mut group = vec![first];
    while group.len() < most {
        match incoming.try_recv() {
            Ok(next) => group.push(next),
            Err(_) => break,
        }
    }
    Some(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_group_is_what_waited_up_to_the_limit_then_the_rest() {
        let (queue, mut incoming) = mpsc::channel(10);
        for n in 0..5 {
            queue.send(n).await.unwrap();
        }
        assert_eq!(next_group(&mut incoming, 3).await, Some(vec![0, 1, 2]));
        assert_eq!(next_group(&mut incoming, 3).await, Some(vec![3, 4]));
        drop(queue);
        assert_eq!(next_group(&mut incoming, 3).await, None);
    }
}
