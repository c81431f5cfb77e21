/* What the guest agent and the host agree on before any protocol exists. */
#ifndef HUSK_AGENT_H
#define HUSK_AGENT_H

/*
 * The agent's first console line starts with this marker; the VMM takes the
 * moment it sees it as the guest's "ready" timing point.
 */
#define HUSK_AGENT_READY_MARKER "husk-agent: ready"

#endif
