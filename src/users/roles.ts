/** The roles a user may have, from least to most allowed. */
export const roles = ['viewer', 'operator', 'approver', 'admin'] as const;

/** What a user may do: `viewer` reads, `operator` acts on runs and targets, `approver` decides approvals, `admin` all. */
export type Role = (typeof roles)[number];

/** True when `value` names a role. */
export const isRole = (value: string): value is Role => (roles as readonly string[]).includes(value);
