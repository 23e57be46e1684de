/** The lines of an /etc/passwd- or /etc/group-style file, each split at its colons (comments and blank lines left out). */
export function parseColonFile(content: string): string[][] {
  return content.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}
