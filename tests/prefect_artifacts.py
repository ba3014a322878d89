"""Read the artifacts one flow run published. Every test shares one Prefect harness and many flows
publish under the same keys, so a read by key alone could return another test's artifact."""

import asyncio
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import Artifact
from prefect.client.schemas.sorting import ArtifactSort


def run_artifacts(flow_run_id: str | UUID | None, key: str) -> list[Artifact]:
    """The artifacts under `key` published by this flow run, newest first."""
    assert flow_run_id is not None, "the flow ran outside Prefect: it has no flow run id"

    async def read() -> list[Artifact]:
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(str(flow_run_id))])),
                sort=ArtifactSort.CREATED_DESC,
            )

    return asyncio.run(read())
