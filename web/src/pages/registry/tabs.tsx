/**
 * The tabs of a registry page. Later capabilities (webhooks, cleanup, protection, scanning) add an entry here and a
 * component; the URL is /registries/NAME/<value> (the first tab is /registries/NAME).
 */
import { IconPhoto, IconSettings, IconWebhook, type Icon } from '@tabler/icons-react';
import type { ComponentType } from 'react';
import type { Registry } from '../../api/types';
import { ImagesTab } from './ImagesTab';
import { SettingsTab } from './SettingsTab';
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
  { value: 'settings', label: 'Settings', icon: IconSettings, Component: SettingsTab },
];
