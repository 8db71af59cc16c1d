//! What runs each job family: the one place that knows every kind of job.

use serde::de::DeserializeOwned;

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::core::queue::{Claimed, Job};
use crate::domain::deferred;
use crate::domain::events::Event;
use crate::effects::{self, federation, feeds, mail, media, search, streaming};
use crate::inbox;
use crate::worker::Probe;

fn decode<J: DeserializeOwned>(job: &Claimed) -> Result<J> {
    serde_json::from_value(job.payload.clone())
        .map_err(|e| Error::bad_request(format!("unreadable job payload ({}): {e}", job.kind)))
}

/// Runs one claimed job.
pub async fn perform(state: &AppState, job: &Claimed) -> Result<()> {
    match job.kind.as_str() {
        Event::FAMILY => effects::dispatch(state, job.id, &decode(job)?).await,
        deferred::Job::FAMILY => decode::<deferred::Job>(job)?.perform(state).await,
        feeds::Job::FAMILY => decode::<feeds::Job>(job)?.perform(state).await,
        federation::Job::FAMILY => decode::<federation::Job>(job)?.perform(state, job.id).await,
        streaming::Job::FAMILY => decode::<streaming::Job>(job)?.perform(state, job.id).await,
        mail::Job::FAMILY => decode::<mail::Job>(job)?.perform(state, job.id).await,
        search::Job::FAMILY => decode::<search::Job>(job)?.perform(state).await,
        media::Job::FAMILY => decode::<media::Job>(job)?.perform(state).await,
        inbox::Job::FAMILY => decode::<inbox::Job>(job)?.perform(state).await,
        Probe::FAMILY => decode::<Probe>(job)?.perform(state).await,
        other => Err(Error::bad_request(format!("unreadable job payload: no job family {other:?}"))),
    }
}
