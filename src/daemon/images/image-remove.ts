/** Docker's rmi rules: which reference goes, when -f is needed, when an image stays dangling. */
import { conflict } from '../../protocol/errors.ts';
import { isActive, type ContainerRecord } from '../../protocol/records.ts';
import { familiarName, normalizeReference, parseReference } from '../../protocol/reference.ts';
import type { ImageStore } from '../../images/image-store.ts';

export interface RemovalContext {
  images: ImageStore;
  /** The containers created from the image. */
  usersOf(imageId: string): ContainerRecord[];
  emit(action: 'untag' | 'delete', imageId: string, name: string): void;
}

export type RemovalResult = Array<{ Untagged: string } | { Deleted: string }>;

export function removeImage(ctx: RemovalContext, ref: string, force: boolean): RemovalResult {
  const { images, emit } = ctx;
  const image = images.resolve(ref);
  const tag = image.repoTags.find((t) => t === tryNormalize(ref));
  const digestRef = image.repoDigests.find((d) => d === tryDigestReference(ref));
  const references = image.repoTags.length + image.repoDigests.length;
  // A tag (or name@digest) of an image that has other references: only that reference goes.
  if (tag && image.repoTags.length > 1) {
    images.untag(image.id, tag);
    emit('untag', image.id, tag);
    return [{ Untagged: tag }];
  }
  if (digestRef && references > 1) {
    images.removeRepoDigest(image.id, digestRef);
    emit('untag', image.id, digestRef);
    return [{ Untagged: digestRef }];
  }
  // By ID, an image with several tags needs -f (Docker's "referenced in multiple repositories").
  if (!tag && !digestRef && image.repoTags.length > 1 && !force) {
    throw conflict(`conflict: unable to delete ${image.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
  }
  const users = ctx.usersOf(image.id);
  if (users.some((u) => isActive(u.state.Status))) {
    throw conflict(`conflict: unable to delete ${image.id.slice(7, 19)} (cannot be forced) - image is being used by running container ${users[0]!.id.slice(0, 12)}`);
  }
  if (users.length && !force) {
    throw conflict(`conflict: unable to remove repository reference "${ref}" (must force) - container ${users[0]!.id.slice(0, 12)} is using its referenced image ${image.id.slice(7, 19)}`);
  }
  const untagged = [...image.repoTags, ...image.repoDigests].map((t) => {
    emit('untag', image.id, t);
    return { Untagged: t };
  });
  for (const t of image.repoTags) images.untag(image.id, t);
  // Forced while containers still use it: the image stays, untagged (dangling), as in Docker.
  if (users.length) return untagged;
  images.remove(image.id);
  emit('delete', image.id, image.id);
  return [...untagged, { Deleted: image.id }];
}

/** "name@sha256:…" in the familiar form the image records keep, or undefined. */
function tryDigestReference(ref: string): string | undefined {
  try {
    const parsed = parseReference(ref);
    return parsed.digest ? `${familiarName(parsed)}@${parsed.digest}` : undefined;
  } catch {
    return undefined;
  }
}

function tryNormalize(ref: string): string | undefined {
  try {
    return normalizeReference(ref);
  } catch {
    return undefined;
  }
}
