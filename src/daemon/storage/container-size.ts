import { dirSize } from '../../lib/dir-size.ts';
import type { ContainerRecord } from '../../protocol/records.ts';
import type { DaemonPaths } from '../host/paths.ts';

export type ContainerLayerPaths = Pick<DaemonPaths, 'containerRootfs' | 'containerUpper'>;

/** Docker's SizeRw and SizeRootFs: bytes the container wrote, and those plus its image's. */
export interface ContainerSizes {
  SizeRw: number;
  SizeRootFs: number;
}

/** Where a container's own writes land: the overlay's upper dir, or the whole copied root. */
export function writableLayerDir(record: Pick<ContainerRecord, 'id' | 'storageDriver'>, paths: ContainerLayerPaths): string {
  return record.storageDriver === 'copy' ? paths.containerRootfs(record.id) : paths.containerUpper(record.id);
}

/** Measures the writable layer; `imageSize` is the size of the container's image (0 if it is gone). */
export async function containerSizes(record: Pick<ContainerRecord, 'id' | 'storageDriver'>, paths: ContainerLayerPaths, imageSize: number): Promise<ContainerSizes> {
  const sizeRw = await dirSize(writableLayerDir(record, paths));
  return { SizeRw: sizeRw, SizeRootFs: sizeRw + imageSize };
}
