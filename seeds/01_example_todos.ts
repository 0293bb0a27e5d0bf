import type { Knex } from 'knex';

const WORKSPACE_A = 'a9393008-eab2-48e8-b820-0e03447f881c';
const WORKSPACE_B = '83fdfa88-737d-4550-87e4-c78bf954fcf2';

/** The original example: with --date 2022-06-03 exactly Peter's and Ousmane's todos are delayed. */
export const exampleTodos = [
  { id: '142e8446-f5ba-4813-bfb5-f3192a37f1bf', workspace_id: WORKSPACE_A, name: 'Workspace 1 - Todo 1', assignee: 'Naomi', due_date: '2025-01-05' },
  { id: 'bf6091cc-69f8-4a9e-93ed-0294c3a8ac2f', workspace_id: WORKSPACE_A, name: 'Workspace 1 - Todo 2', assignee: 'Peter', due_date: '2020-06-11' },
  { id: '6e5bad4c-7f1c-4ab4-9361-c6bd697b4257', workspace_id: WORKSPACE_A, name: 'Workspace 1 - Todo 3', assignee: 'Sheila', due_date: '2032-11-27' },
  { id: '1d2be9f2-4fe9-4509-b8ec-d0d9425c3685', workspace_id: WORKSPACE_B, name: 'Workspace 2 - Todo 1', assignee: 'Ousmane', due_date: '2020-07-14' },
  { id: 'e868f10d-d21a-4139-9c5d-b8c73c62735a', workspace_id: WORKSPACE_B, name: 'Workspace 2 - Todo 2', assignee: 'Carla', due_date: '2034-09-07' },
];

/** The example's workspaces live apart: each notification falls due at a local time of its workspace's zone. */
export const exampleWorkspaces = [
  { id: WORKSPACE_A, time_zone: 'America/Los_Angeles' },
  { id: WORKSPACE_B, time_zone: 'Asia/Tokyo' },
];

export async function seed(knex: Knex): Promise<void> {
  // Idempotent: rerunning the seed restores the example without touching other todos or workspaces.
  await knex('workspaces').insert(exampleWorkspaces).onConflict('id').merge();
  await knex('todos').insert(exampleTodos).onConflict('id').merge();
}
