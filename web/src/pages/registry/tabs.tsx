/**
 * The tabs of a registry page. Later capabilities (webhooks, cleanup, protection, scanning) add an entry here and a
 * component; the URL is /registries/NAME/<value> (the first tab is /registries/NAME).
 */
import { IconArrowsExchange, IconBug, IconPhoto, IconSettings, IconShieldCheck, IconShieldLock, IconTrashX, IconWebhook, type Icon } from '@tabler/icons-react';
import type { ComponentType } from 'react';
import type { Registry } from '../../api/types';
import { CleanupTab } from './CleanupTab';
import { ImagesTab } from './ImagesTab';
import { ProtectionTab } from './ProtectionTab';
import { ReplicationTab } from './replication/ReplicationTab';
import { ScanTab } from './ScanTab';
import { SettingsTab } from './SettingsTab';
import { TrustTab } from './TrustTab';
import { WebhooksTab } from './webhooks/WebhooksTab';

export interface RegistryTab {
  value: string;
  label: string;
  icon: Icon;
  Component: ComponentType<{ registry: Registry }>;
}

export const REGISTRY_TABS: RegistryTab[] = [
  { value: 'images', label: 'Images', icon: IconPhoto, Component: ImagesTab },
  { value: 'webhooks', label: 'Webhook', icon: IconWebhook, Component: WebhooksTab },
  { value: 'replication', label: 'Replication', icon: IconArrowsExchange, Component: ReplicationTab },
  { value: 'cleanup', label: 'Image Cleanup', icon: IconTrashX, Component: CleanupTab },
  { value: 'protection', label: 'Image Protection', icon: IconShieldLock, Component: ProtectionTab },
  { value: 'scan', label: 'Image Scan', icon: IconBug, Component: ScanTab },
  { value: 'trust', label: 'Image Trust', icon: IconShieldCheck, Component: TrustTab },
  { value: 'settings', label: 'Settings', icon: IconSettings, Component: SettingsTab },
];
