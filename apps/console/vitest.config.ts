import { projectTestConfig } from '../../vitest.shared';

export default projectTestConfig({ slow: true });
