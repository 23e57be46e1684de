/** berth's release version: the daemon's and the CLI's (the two ship together). Kept equal to package.json's. */
export const BERTH_VERSION = '0.1.0';
