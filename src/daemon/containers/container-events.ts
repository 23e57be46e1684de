import type { ContainerRecord } from '../../protocol/records.ts';
import type { EventBus } from '../events/events.ts';

/** A container event with the attributes dockerd gives it: labels, image, name, then `extra`. */
export function publishContainerEvent(events: EventBus, action: string, record: ContainerRecord, extra: Record<string, string> = {}, at?: string): void {
  events.publish('container', action, record.id, { ...record.config.Labels, image: record.config.Image, name: record.name, ...extra }, at);
}
