/**
 * An aggregate as a pair of pure functions (emmett's deciders): `decide` turns a command
 * into events given the current state, or throws a typed error; `evolve` folds an event
 * into state. Ids and time arrive inside commands, so both stay deterministic.
 */
export type Decider<Command, Event extends { type: string; data: object }, State> = {
  initialState: State;
  evolve: (state: State, event: Event) => State;
  decide: (command: Command, state: State) => Event[];
};

export function fold<Event extends { type: string; data: object }, State>(
  decider: Pick<Decider<never, Event, State>, "initialState" | "evolve">,
  events: Event[],
): State {
  return events.reduce(decider.evolve, decider.initialState);
}

export function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}
