import type { ImageRecord } from '../../protocol/records.ts';
import type { ShimConfig } from '../../protocol/shim.ts';
import type { RuntimeInfo } from '../../runtime/oci-runtime.ts';
import { parseLogOpts } from '../../protocol/json-file-log.ts';
import type { DaemonPaths } from '../host/paths.ts';
import type { ContainerRecord } from './types.ts';
import { healthcheckSpec, mergeHealthcheck } from './image-defaults.ts';

/** What a container's shim is told at birth: where everything is, its log limits, restart policy and health check. */
export function shimConfigFor(paths: DaemonPaths, record: ContainerRecord, image: ImageRecord, runtime: RuntimeInfo): ShimConfig {
  const logOpts = parseLogOpts(record.hostConfig.LogConfig.Config);
  return {
    schemaVersion: 1,
    id: record.id,
    bundle: paths.bundle(record.id),
    runtime,
    socketPath: paths.shimSocket(record.id),
    logPath: paths.containerLog(record.id),
    logMaxSize: logOpts.maxSize,
    logMaxFiles: logOpts.maxFiles,
    exitPath: paths.containerExit(record.id),
    restartPolicy: { name: record.hostConfig.RestartPolicy.Name, maximumRetryCount: record.hostConfig.RestartPolicy.MaximumRetryCount },
    ...healthcheckSpec(mergeHealthcheck(record.config.Healthcheck, image.config.Healthcheck)),
  };
}
