/** TCP, UDP and WebSocket nodes (Node-RED's network nodes): listeners are triggers, senders are ordinary nodes. */
import type { NodeDefinition } from '@flowcrew/sdk';
import { tcpInNode } from './net/tcp-in.ts';
import { tcpOutNode } from './net/tcp-out.ts';
import { tcpRequestNode } from './net/tcp-request.ts';
import { udpInNode, udpOutNode } from './net/udp.ts';
import { websocketInNode, websocketOutNode } from './net/websocket.ts';

export const netNodes: NodeDefinition[] = [tcpInNode, tcpOutNode, tcpRequestNode, udpInNode, udpOutNode, websocketInNode, websocketOutNode];
