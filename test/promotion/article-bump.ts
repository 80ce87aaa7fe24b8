/**
 * The field article's bump as a reviewer sees it: the article's cluster (kubeadm 1.13.2, docker-ce 18.06.1) moved
 * to Kubernetes 1.13.3 and docker-ce 18.06.2 (the runc CVE-2019-5736 fix). The markdown is pinned in
 * article-bump.md; after a deliberate change to the plan or its rendering, rewrite it with
 *   npx tsx test/promotion/article-bump.ts > test/promotion/article-bump.md
 * and review the diff like any other change.
 */
import { planMarkdown } from "../../cli/markdown";
import { planRollout, type Plan } from "../../components/rollout/plan";
import { articleConfig } from "../fixtures/config";

export const ARTICLE_BUMP = {
  versions: { kubernetes: "1.13.3", kubeadm: "1.13.3-00", kubelet: "1.13.3-00", kubectl: "1.13.3-00", "docker-ce": "18.06.2~ce~3-0~ubuntu" },
};

export function articleBumpPlan(): Plan {
  return planRollout({ stack: "article", base: articleConfig(), target: articleConfig(ARTICLE_BUMP), region: "eu-west-1" });
}

export const articleBumpMarkdown = (): string => `${planMarkdown(articleBumpPlan(), "Pulumi.article.yaml")}\n`;

if (require.main === module) process.stdout.write(articleBumpMarkdown());
