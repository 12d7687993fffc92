/** Tour steps the suite's tours share. */

/** From the home screen into the Retail Integration app. */
export function openRetailApp() {
    return [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button:enabled",
            run: "click",
        },
        {
            content: "Open the Retail Integration app",
            trigger: '.o_app[data-menu-xmlid="retail_integration.menu_retail_root"]',
            run: "click",
        },
    ];
}
