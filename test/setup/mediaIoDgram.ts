/**
 * Jest setup of the "media on dgram" project (jest.config.js): the media integration
 * tests run once more with the node:dgram packet io (test/integration/media/
 * engineFixture.ts reads this), so both implementations carry the same suite.
 */
process.env.CALLWATCH_MEDIA_IO = 'dgram';
