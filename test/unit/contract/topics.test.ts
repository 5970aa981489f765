import { strict as assert } from 'node:assert';
import { assertClientTopic, isRuntimeOwnTopic, privateTopicOwner } from '../../../runtime/contract/topics';

describe('contract: whose topics are whose', () => {
  it('the runtime alone publishes agent lifecycle and output, runtime.*, mcp.<name>.state and cluster.*', () => {
    for (const topic of [
      'agent.alpha.failed',
      'agent.alpha.log',
      'agent.alpha.connected',
      'runtime.config',
      'runtime',
      'cluster.health',
      'mcp.github.state',
      'agent.team.alpha.failed',
      'agent.team.alpha.log',
    ])
      assert.equal(isRuntimeOwnTopic(topic), true, topic);
    for (const topic of [
      'agent.alpha.replies',
      'agent.alpha.failed.more',
      'agent.alpha.exited',
      'agent.failed',
      'agents.alpha.failed',
      'runtimes.config',
      'mcp.github.state.x',
      'mcp.github.tools',
      'workspace.trust',
    ])
      assert.equal(isRuntimeOwnTopic(topic), false, topic);
    assert.throws(() => assertClientTopic('runtime.config'), { code: 'reserved_topic' });
    assert.doesNotThrow(() => assertClientTopic('agent.alpha.replies'));
  });

  it("an agent's reply inbox and output are its own to read; request inboxes nobody's; the rest everyone's", () => {
    assert.equal(privateTopicOwner('agent.alpha.replies'), 'alpha');
    assert.equal(privateTopicOwner('agent.alpha.log'), 'alpha');
    assert.equal(privateTopicOwner('agent.team.alpha.replies'), 'team.alpha');
    assert.equal(privateTopicOwner('agent.team.alpha.log'), 'team.alpha');
    assert.equal(privateTopicOwner('_inbox.3f2a'), '');
    for (const topic of ['agent.alpha.failed', 'agent.replies', 'alpha.replies', 'news.today'])
      assert.equal(privateTopicOwner(topic), undefined, topic);
  });
});
