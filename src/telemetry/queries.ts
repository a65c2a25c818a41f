/** Waiting and running jobs per queue and state: the active partition only, so the gauge stays cheap. */
export const queueDepth = (quotedSchema: string) => `
select queue, state, count(*)::int as count from ${quotedSchema}.jobs_active group by queue, state`;
