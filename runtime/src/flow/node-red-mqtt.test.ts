/**
 * Table test of Node-RED's `mqtt in` / `mqtt out` imported onto the MQTT nodes of @flowcrew/nodes-mq: each variant
 * real exports carry must validate against the node's schema, with each change reported; the broker configuration
 * node is listed as not imported and named in a warning.
 */
import { describe, expect, it } from 'vitest';
import coreNodes from '@flowcrew/nodes-core';
import * as mqPack from '@flowcrew/nodes-mq';
import { NodeRegistry } from '../registry/registry.ts';
import { importNodeRed } from './node-red.ts';
import { validateFlow } from './validate.ts';

const registry = new NodeRegistry();
registry.register(coreNodes, '@flowcrew/nodes-core');
registry.register(mqPack.nodes, '@flowcrew/nodes-mq');

const broker = { id: 'b1', type: 'mqtt-broker', name: 'plant', broker: 'mqtt.example.com', port: '1883', clientid: '', usetls: false, protocolVersion: '5', keepalive: '60', cleansession: true };

function importOne(node: Record<string, unknown>) {
  const result = importNodeRed([{ id: 'tab', type: 'tab', label: 'T' }, { id: 'n1', z: 'tab', x: 100, y: 100, wires: [[]], broker: 'b1', ...node }, broker]);
  const validated = validateFlow(result.flows[0]!, registry);
  const schemaIssues = validated.issues.filter((i) => !/credential/i.test(i.message));
  expect(schemaIssues, JSON.stringify(schemaIssues)).toEqual([]);
  const flowNode = validated.flow.nodes.find((n) => n.id === 'n1')!;
  const actions = Object.fromEntries(result.properties.filter((p) => p.nodeId === 'n1').map((p) => [p.property, p.action]));
  return { type: flowNode.type, props: flowNode.props ?? {}, actions, result };
}

type Case = [title: string, node: Record<string, unknown>, type: string, props: Record<string, unknown>, actions: Record<string, string>];

const cases: Case[] = [
  ['mqtt in, Node-RED 3 defaults (qos "2", auto-detect)', { type: 'mqtt in', topic: 'plant/+/temp', qos: '2', datatype: 'auto-detect', nl: false, rap: true, rh: 0, inputs: 0 }, 'mqtt-subscribe', { topic: 'plant/+/temp', qos: 2, payloadAs: 'auto' }, { '/broker': 'dropped', '/qos': 'translated', '/payloadAs': 'translated', '/datatype': 'dropped', '/rap': 'dropped', '/inputs': 'dropped' }],
  ['mqtt in, old export: no qos, datatype utf8', { type: 'mqtt in', topic: 'a/b', datatype: 'utf8' }, 'mqtt-subscribe', { topic: 'a/b', qos: 2, payloadAs: 'text' }, { '/qos': 'defaulted', '/payloadAs': 'translated' }],
  ['mqtt in, qos "1", json, buffer → blob', { type: 'mqtt in', topic: 'x', qos: '1', datatype: 'buffer' }, 'mqtt-subscribe', { qos: 1, payloadAs: 'blob' }, { '/payloadAs': 'translated' }],
  ['mqtt in, dynamic subscription (inputs 1)', { type: 'mqtt in', topic: 'x', qos: '0', datatype: 'json', inputs: 1 }, 'mqtt-subscribe', { qos: 0, payloadAs: 'json' }, { '/inputs': 'dropped' }],
  ['mqtt out, defaults (qos "", retain "")', { type: 'mqtt out', topic: 'orders/tick', qos: '', retain: '', respTopic: '', contentType: '', userProps: '', correl: '', expiry: '' }, 'mqtt-publish', { topic: 'orders/tick', qos: 0, retain: false }, { '/qos': 'defaulted', '/retain': 'translated', '/respTopic': 'dropped', '/broker': 'dropped' }],
  ['mqtt out, qos "1", retain "true", MQTT 5 content type', { type: 'mqtt out', topic: '', qos: '1', retain: 'true', contentType: 'application/json' }, 'mqtt-publish', { topic: '', qos: 1, retain: true }, { '/qos': 'translated', '/retain': 'translated', '/contentType': 'dropped' }],
  ['mqtt out, retain as a boolean', { type: 'mqtt out', topic: 't', qos: '2', retain: false }, 'mqtt-publish', { qos: 2, retain: false }, { '/qos': 'translated' }],
];

describe('Node-RED mqtt in / mqtt out import', () => {
  it.each(cases)('%s', (_title, node, type, props, actions) => {
    const imported = importOne(node);
    expect(imported.type).toBe(type);
    expect(imported.props).toMatchObject(props);
    expect(imported.actions).toMatchObject(actions);
  });

  it("takes the broker's session: clean (Node-RED's default) keeps nothing, otherwise its MQTT 5 session expiry", () => {
    const clean = importOne({ type: 'mqtt in', topic: 't', qos: '1' });
    expect(clean.props.sessionExpirySeconds).toBe(0);
    expect(clean.actions['/sessionExpirySeconds']).toBe('defaulted');
    broker.cleansession = false;
    (broker as Record<string, unknown>).sessionExpiry = '3600';
    try {
      expect(importOne({ type: 'mqtt in', topic: 't', qos: '1' }).props.sessionExpirySeconds).toBe(3600);
    } finally {
      broker.cleansession = true;
      delete (broker as Record<string, unknown>).sessionExpiry;
    }
  });

  it('lists the mqtt-broker configuration node as not imported and warns on the node that used it', () => {
    const { result } = importOne({ type: 'mqtt out', topic: 't' });
    expect(result.unmapped).toContainEqual(expect.objectContaining({ id: 'b1', type: 'mqtt-broker', reason: expect.stringContaining('configuration node') }));
    expect(result.properties.find((p) => p.nodeId === 'n1' && p.property === '/broker')!.reason).toContain('attach an MQTT credential');
  });
});
