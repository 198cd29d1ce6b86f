/**
 * Pure steps of a machine: `initial(input)` and `step(snapshot, event)` return the next
 * snapshot and the actions to execute, as data (emitted effects, delayed raises, cancels).
 *
 * This is what xstate's `initialTransition` / `transition` do, except that those create a
 * new actor and actor system for every call (about 20-50 us each, measured); a Stepper makes
 * one inert actor scope per machine and reuses it (2-10 us). The scope's executor only
 * records actions, so nothing runs and nothing is shared between the actors stepped with it.
 */
import { createActor, type AnyMachineSnapshot, type AnyStateMachine, type EventObject } from 'xstate';

/** The subset of xstate's executable action objects the runtime reads. */
export interface StepAction {
  readonly type: string;
  readonly params: { readonly event?: unknown; readonly delay?: number; readonly id?: string; readonly sendId?: string };
}

export class Stepper {
  private actions: StepAction[] = [];
  private readonly scope: unknown;

  constructor(private readonly machine: AnyStateMachine) {
    const self = createActor(machine);
    this.scope = {
      self,
      defer: () => undefined,
      id: '',
      logger: () => undefined,
      sessionId: '',
      stopChild: () => undefined,
      system: self.system,
      emit: () => undefined,
      actionExecutor: (a: StepAction) => void this.actions.push(a),
    };
  }

  initial(input: unknown): [AnyMachineSnapshot, StepAction[]] {
    this.actions = [];
    const s = this.machine.getInitialSnapshot(this.scope as never, input) as AnyMachineSnapshot;
    return [s, this.actions];
  }

  step(snapshot: AnyMachineSnapshot, event: EventObject): [AnyMachineSnapshot, StepAction[]] {
    this.actions = [];
    const s = this.machine.transition(snapshot, event, this.scope as never) as AnyMachineSnapshot;
    return [s, this.actions];
  }

  /** Rebuilds a snapshot from its persisted state value and context. */
  restore(value: unknown, context: unknown): AnyMachineSnapshot {
    return this.machine.resolveState({ value: value as never, context: context as never });
  }
}
