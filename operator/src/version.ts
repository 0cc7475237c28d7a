// The one place that names the operator's version and the images it deploys.
// The chart (Chart.yaml appVersion, values.yaml), scripts/build-images.sh and
// the CRD's defaults are checked against these constants by unit tests, so an
// operator and the chart that installs it always agree on image names and tags.

/** Released together: package.json version = Chart appVersion = image tags. */
export const VERSION = '0.1.0';

/** Where the images are published. */
export const IMAGE_REGISTRY = 'ghcr.io/tce-dev';

/** The services image: every platform component runs from it (different entrypoints). */
export const PLATFORM_IMAGE_REPOSITORY = `${IMAGE_REGISTRY}/tce-platform`;

/** The operator image. */
export const OPERATOR_IMAGE_REPOSITORY = `${IMAGE_REGISTRY}/tce-operator`;

/** The field manager of every server-side apply the operator makes; also its Events' source. */
export const FIELD_MANAGER = 'tce-operator';

export const API_GROUP = 'tce.dev';
export const API_VERSION = 'v1alpha1';
export const PLATFORM_API_VERSION = `${API_GROUP}/${API_VERSION}`;
export const PLATFORM_KIND = 'Platform';
export const PLATFORM_PLURAL = 'platforms';
export const CRD_NAME = `${PLATFORM_PLURAL}.${API_GROUP}`;
